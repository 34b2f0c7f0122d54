// Incremental, allocation-light reader of one SSE response on a raw socket: the HTTP
// head, then (chunked or not) the body, from which it only picks `data:` lines that
// carry a bench payload (`<tag> <seq> <sendUs>[ <lateUs>]`, optionally JSON-quoted). Everything
// else (id/event lines, `:` comments, heartbeats) is skipped. The socket must be read
// as latin1 so that one char is one byte, which chunk sizes count.

export interface SseReaderHandlers {
  /** The response head arrived; `status` is the HTTP status code. */
  onHead(status: number): void;
  /** `lateUs` is 0 when the payload has no fourth field. */
  onEvent(tag: number, seq: number, sendUs: number, lateUs: number): void;
}

const NEWLINE = 10;
const SPACE = 32;
const QUOTE = 34;
const ZERO = 48;
const NINE = 57;

export class SseReader {
  private head = '';
  private inBody = false;
  private chunked = false;
  private chunkLeft = 0;
  private skip = 0;
  private sizeLine = '';
  private partial = '';
  /** True once the terminating zero-size chunk was read. */
  ended = false;

  constructor(private readonly handlers: SseReaderHandlers) {}

  feed(text: string): void {
    if (!this.inBody) {
      this.head += text;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > 65_536) throw new Error('response head too large');
        return;
      }
      const head = this.head;
      this.head = '';
      this.inBody = true;
      const status = Number(head.slice(9, 12));
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head.slice(0, end + 2));
      this.handlers.onHead(status);
      text = head.slice(end + 4);
      if (text === '') return;
    }
    this.lines(this.chunked ? this.dechunk(text) : text);
  }

  private dechunk(s: string): string {
    let out = '';
    let i = 0;
    while (i < s.length && !this.ended) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, s.length - i);
        out += s.slice(i, i + take);
        i += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.skip = 2;
      } else if (this.skip > 0) {
        const n = Math.min(this.skip, s.length - i);
        i += n;
        this.skip -= n;
      } else {
        const nl = s.indexOf('\n', i);
        if (nl < 0) {
          this.sizeLine += s.slice(i);
          break;
        }
        const size = parseInt(this.sizeLine + s.slice(i, nl), 16);
        this.sizeLine = '';
        i = nl + 1;
        if (!(size > 0)) this.ended = true;
        else this.chunkLeft = size;
      }
    }
    return out;
  }

  private lines(text: string): void {
    const s = this.partial === '' ? text : this.partial + text;
    const end = s.lastIndexOf('\n');
    if (end < 0) {
      this.partial = s;
      return;
    }
    this.partial = end + 1 < s.length ? s.slice(end + 1) : '';
    let from = 0;
    for (;;) {
      const at = s.indexOf('data:', from);
      if (at < 0 || at > end) break;
      if (at === 0 || s.charCodeAt(at - 1) === NEWLINE) this.payload(s, at + 5);
      from = at + 5;
    }
  }

  /** Parses `<tag> <seq> <sendUs>[ <lateUs>]` after `data:`; lines that do not fit are ignored. */
  private payload(s: string, at: number): void {
    let i = at;
    let c = s.charCodeAt(i);
    while (c === SPACE || c === QUOTE) c = s.charCodeAt(++i);
    const values = [0, 0, 0, 0];
    for (let field = 0; field < 4; field++) {
      let digits = 0;
      let value = 0;
      while (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        digits++;
        c = s.charCodeAt(++i);
      }
      if (digits === 0) {
        if (field < 3) return;
        break;
      }
      values[field] = value;
      if (c !== SPACE) {
        if (field < 2) return;
        break;
      }
      c = s.charCodeAt(++i);
    }
    this.handlers.onEvent(values[0]!, values[1]!, values[2]!, values[3]!);
  }
}
