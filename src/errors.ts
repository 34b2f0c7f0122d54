// One error type for everything Herald refuses, with a stable code and an HTTP status.
// http/errors.ts turns it into a JSON reply; nothing else builds error replies.

export const ERRORS = {
  bad_request: { status: 400, message: 'The request is malformed' },
  missing_topic: { status: 400, message: 'At least one "topic" is required' },
  invalid_field: { status: 400, message: 'A field has an invalid value' },
  duplicate_id: { status: 400, message: 'An update with this id is already in the log' },
  too_many_items: { status: 400, message: 'More topic selectors in one subscription than this hub allows' },
  // Draft 08 splits the two limits: a subscription past its bounds is a 400, a publication past its limits a 413.
  too_many_topics: { status: 413, message: 'More topics in one update than this hub allows' },
  field_too_long: { status: 413, message: 'A field of the update is longer than this hub allows' },
  too_many_updates: { status: 413, message: 'More updates in one batch than this hub allows' },
  selectors_too_costly: { status: 400, message: 'The topic selectors cost more to match than this hub allows' },
  unauthorized: { status: 401, message: 'A valid token is required' },
  // RFC 6750 invalid_request: the token's presentation (or the token's syntax) is malformed, not the token's validity.
  invalid_request: { status: 400, message: 'The access token is presented in a malformed way' },
  forbidden: { status: 403, message: 'This is not allowed' },
  reserved_topic: { status: 400, message: 'Topics under /.well-known/mercure are reserved for the hub' },
  not_found: { status: 404, message: 'Not found' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  rate_limited: { status: 429, message: 'Too many requests' },
  store_unavailable: { status: 503, message: 'The store is unavailable; nothing was published' },
  too_many_connections: { status: 503, message: 'The hub has reached its connection limit' },
  invalid_config: { status: 500, message: 'Invalid configuration' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the JSON error body (e.g. which ids of a batch were stored). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, headers: Record<string, string> = {}, details: Record<string, unknown> = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'HeraldError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = headers;
    this.details = details;
  }
}

export function isHeraldError(error: unknown): error is HeraldError {
  return error instanceof HeraldError;
}
