// The WHATWG "event stream interpretation" (HTML 9.2.6) over decoded text arriving in
// chunks of any size: CRLF, CR and LF end lines (a CR at a chunk's end waits for a
// possible LF), `:` lines are comments, an `id` holding NUL is ignored, `retry` is
// honoured only when it is all ASCII digits. Everything else about the connection
// (bytes, reconnecting) belongs to the stream, not here.

export interface ParsedEvent {
  /** `message` when the stream named no type. */
  readonly type: string;
  readonly data: string;
  /** The last event id in force when this event was dispatched ('' when none yet). */
  readonly lastEventId: string;
  /** Whether this event carried its own `id:` field (the gap event does not). */
  readonly hasId: boolean;
}

export interface ParserSink {
  event(event: ParsedEvent): void;
  retry?(ms: number): void;
  comment?(text: string): void;
}

/** Refused: an event (or one line) longer than the parser's bound. */
export class EventTooLongError extends Error {
  override readonly name = 'EventTooLongError';
}

export class SseParser {
  private buffer = '';
  private started = false;
  private data: string[] = [];
  private dataLength = 0;
  private type = '';
  private idSeen = false;
  /** Survives events, as the spec's "last event ID buffer" does. */
  lastEventId: string;

  constructor(
    private readonly sink: ParserSink,
    lastEventId = '',
    /** Characters one event may hold (a line, or all its data lines): a server cannot grow the buffer without end. */
    private readonly maxEventLength = 16 * 1024 * 1024,
  ) {
    this.lastEventId = lastEventId;
  }

  push(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const buffer = this.buffer + text;
    let start = 0;
    for (let i = start; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 13 && c !== 10) continue;
      if (c === 13 && i === buffer.length - 1) break;
      this.line(buffer.slice(start, i));
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buffer = buffer.slice(start);
    if (this.buffer.length + this.dataLength > this.maxEventLength) throw new EventTooLongError(`an event longer than ${this.maxEventLength} characters`);
  }

  /** Forgets a half-received event: a new connection starts clean, keeping the last id. */
  reset(): void {
    this.buffer = '';
    this.started = false;
    this.data = [];
    this.dataLength = 0;
    this.type = '';
    this.idSeen = false;
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58) {
      this.sink.comment?.(line.slice(1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataLength += value.length + 1;
    }
    else if (field === 'event') this.type = value;
    else if (field === 'id') {
      if (!value.includes('\0')) {
        this.lastEventId = value;
        this.idSeen = true;
      }
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) this.sink.retry?.(Number(value));
    }
  }

  private dispatch(): void {
    const hasId = this.idSeen;
    this.idSeen = false;
    const type = this.type;
    this.type = '';
    if (this.data.length === 0) return;
    const data = this.data.join('\n');
    this.data = [];
    this.dataLength = 0;
    this.sink.event({ type: type === '' ? 'message' : type, data, lastEventId: this.lastEventId, hasId });
  }
}
