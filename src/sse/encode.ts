// The only place that builds text/event-stream bytes. Each update is encoded once
// into a Buffer that is written as-is to every subscriber.
//
// Security property: no field value can start a new line on the wire. `data` is
// split on every line terminator the SSE parser knows (CRLF, CR, LF), each piece
// becoming its own `data:` line; single-line fields (`id`, `event`) are refused
// when they hold CR, LF or NUL, whoever calls the encoder.

export interface SseEvent {
  readonly id?: string;
  readonly type?: string;
  readonly retry?: number;
  readonly data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;
const ANY_LINE_BREAK = /[\r\n]/;
const FORBIDDEN_IN_FIELD = /[\r\n\0]/;

export class SseFieldError extends Error {
  constructor(field: string) {
    super(`SSE field "${field}" must not contain CR, LF or NUL`);
    this.name = 'SseFieldError';
  }
}

/** True when `value` can be written as a single-line SSE field (id, event). */
export function isSafeFieldValue(value: string): boolean {
  return !FORBIDDEN_IN_FIELD.test(value);
}

function singleLineField(name: string, value: string): string {
  if (!isSafeFieldValue(value)) throw new SseFieldError(name);
  return `${name}: ${value}\n`;
}

/** Throws the SseFieldError encodeEventText would throw for this event, without encoding it. */
export function checkEvent(event: SseEvent): void {
  if (event.type !== undefined && event.type !== '' && !isSafeFieldValue(event.type)) throw new SseFieldError('event');
  if (event.id !== undefined && !isSafeFieldValue(event.id)) throw new SseFieldError('id');
  if (event.retry !== undefined && (!Number.isSafeInteger(event.retry) || event.retry < 0)) throw new SseFieldError('retry');
}

/** Encodes one event as text; the trailing blank line ends it. */
export function encodeEventText(event: SseEvent): string {
  let text = '';
  if (event.type !== undefined && event.type !== '') text += singleLineField('event', event.type);
  if (event.id !== undefined) text += singleLineField('id', event.id);
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) throw new SseFieldError('retry');
    text += `retry: ${event.retry}\n`;
  }
  // One space after the colon: the parser strips exactly one, so data that starts
  // with spaces survives byte for byte.
  // Most data is one line: no array of pieces then.
  if (!ANY_LINE_BREAK.test(event.data)) text += `data: ${event.data}\n`;
  else for (const line of event.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return text + '\n';
}

export function encodeEvent(event: SseEvent): Buffer {
  return Buffer.from(encodeEventText(event), 'utf8');
}

/** A comment line; clients ignore it, proxies see traffic. Used as heartbeat. */
export function encodeComment(text = ''): Buffer {
  return Buffer.from(`:${text.replace(/[\r\n]+/g, ' ')}\n\n`, 'utf8');
}

/** A lone `retry:` field, sent before closing so clients come back after `ms`. */
export function encodeRetry(ms: number): Buffer {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new SseFieldError('retry');
  return Buffer.from(`retry: ${ms}\n\n`, 'utf8');
}

export const HEARTBEAT = encodeComment();
