// A plain implementation of the WHATWG "event stream interpretation" algorithm
// (HTML Living Standard, 9.2.6), written from the spec for tests: it is the oracle
// the encoder is checked against, independent of Herald's encoder and of the
// `eventsource` client. Line ends are CRLF, CR or LF; a CR at the end of a chunk
// waits for the next chunk in case an LF follows.

export interface SpecEvent {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

export class SseSpecParser {
  readonly events: SpecEvent[] = [];
  readonly comments: string[] = [];
  /** The reconnection time, as last set by a valid `retry` field. */
  retry: number | undefined;
  /** Every `retry` value seen, valid or not, in order. */
  readonly retryFields: string[] = [];
  private buffer = '';
  private started = false;
  private data = '';
  private type = '';
  private lastEventId = '';

  /** Feeds decoded text; complete lines are interpreted at once. */
  push(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\r' && c !== '\n') continue;
      if (c === '\r' && i === this.buffer.length - 1) break; // maybe CRLF across chunks
      this.line(this.buffer.slice(start, i));
      if (c === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data += `${value}\n`;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        this.retryFields.push(value);
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.data === '') {
      this.type = '';
      return;
    }
    const data = this.data.endsWith('\n') ? this.data.slice(0, -1) : this.data;
    this.events.push({ type: this.type === '' ? 'message' : this.type, data, lastEventId: this.lastEventId });
    this.data = '';
    this.type = '';
  }
}

/** Parses a whole stream (or what has arrived of it). */
export function parseEventStream(text: string): SseSpecParser {
  const parser = new SseSpecParser();
  parser.push(text);
  return parser;
}

/** What the SSE spec makes of `data`: every CRLF and lone CR becomes LF. */
export function specNormalized(data: string): string {
  return data.replace(/\r\n|\r/g, '\n');
}
