// The one error type of the client, with a stable code: what the hub answered
// (its JSON `error` code, see Herald's docs/errors.md) or what went wrong locally.

/** Herald's error codes, plus the client's own for what never reached an answer. */
export type HeraldErrorCode =
  | 'bad_request'
  | 'missing_topic'
  | 'invalid_field'
  | 'duplicate_id'
  | 'too_many_items'
  | 'too_many_topics'
  | 'field_too_long'
  | 'too_many_updates'
  | 'invalid_request'
  | 'selectors_too_costly'
  | 'unauthorized'
  | 'forbidden'
  | 'reserved_topic'
  | 'not_found'
  | 'payload_too_large'
  | 'rate_limited'
  | 'store_unavailable'
  | 'too_many_connections'
  | 'invalid_config'
  /** No answer: the connection failed or was cut. */
  | 'network'
  /** An answer that is not what Herald sends (wrong content type, unknown error body). */
  | 'unexpected_response'
  /** The token source (`getToken`) threw. */
  | 'token_unavailable';


export class HeraldClientError extends Error {
  override readonly name = 'HeraldClientError';
  constructor(
    readonly code: HeraldErrorCode,
    message: string,
    /** The HTTP status, 0 when there was no answer. */
    readonly status = 0,
    /** Extra fields of the error body (e.g. `stored` of a failed batch) and `retryAfterMs`. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** Worth trying again later: no answer, or the hub said it is busy or its store is away. */
  get transient(): boolean {
    return this.code === 'network' || this.status === 429 || this.status >= 500;
  }
}

/** Reads an error reply (JSON `{error, message}`); anything else is named after its status. */
export async function errorFromResponse(response: Response): Promise<HeraldClientError> {
  const text = await response.text().catch(() => '');
  const retryAfter = retryAfterMs(response.headers.get('retry-after'));
  const extra = retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    // A code newer than this list is passed on as the hub said it.
    if (typeof body.error === 'string') {
      const { error, message, ...details } = body;
      return new HeraldClientError(error as HeraldErrorCode, typeof message === 'string' ? message : error, response.status, { ...details, ...extra });
    }
  } catch {
    // not JSON: fall through
  }
  const code: HeraldErrorCode = response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : 'unexpected_response';
  return new HeraldClientError(code, `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`, response.status, extra);
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
