// Reads HTTP/1.1 responses off a keep-alive socket for raw-http.ts, one after the
// other: the status line, Content-Length or chunked framing (the body is skipped),
// and whether the server closes the connection after it. Text is latin1, so that one
// char is one byte as the framing counts.

type State = 'head' | 'length' | 'size' | 'data' | 'crlf' | 'trailer';

export class ResponseReader {
  /** Set with each complete response: the server closes the connection after it. */
  closeAfter = false;
  private state: State = 'head';
  private buffer = '';
  private status = 0;
  private remaining = 0;

  reset(): void {
    this.state = 'head';
    this.buffer = '';
    this.remaining = 0;
  }

  /** Feeds the next bytes; returns the status once a whole response is in, else undefined. */
  feed(text: string): number | undefined {
    const s = this.buffer + text;
    this.buffer = '';
    let i = 0;
    for (;;) {
      if (this.state === 'head') {
        const end = s.indexOf('\r\n\r\n', i);
        if (end < 0) {
          this.buffer = s.slice(i);
          if (this.buffer.length > 65_536) throw new Error('response head too large');
          return undefined;
        }
        this.startBody(s.slice(i, end + 2));
        i = end + 4;
        if (this.state === 'head') return this.done();
      } else if (this.state === 'length' || this.state === 'data') {
        const take = Math.min(this.remaining, s.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining > 0) return undefined;
        if (this.state === 'length') return this.done();
        this.state = 'crlf';
      } else {
        const nl = s.indexOf('\n', i);
        if (nl < 0) {
          this.buffer = s.slice(i);
          return undefined;
        }
        const line = s.slice(i, nl).trim();
        i = nl + 1;
        if (this.state === 'size') {
          const size = parseInt(line, 16);
          if (!(size >= 0)) throw new Error(`bad chunk size ${JSON.stringify(line)}`);
          this.remaining = size;
          this.state = size === 0 ? 'trailer' : 'data';
        } else if (this.state === 'crlf') {
          this.state = 'size';
        } else if (line === '') {
          return this.done();
        }
      }
    }
  }

  private startBody(head: string): void {
    const status = Number(head.slice(9, 12));
    if (!head.startsWith('HTTP/1.') || !(status >= 100)) throw new Error(`bad response head ${JSON.stringify(head.slice(0, 40))}`);
    this.status = status;
    const lower = head.toLowerCase();
    this.closeAfter = lower.includes('\r\nconnection: close') || head.startsWith('HTTP/1.0');
    const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) this.state = 'size';
    else if (length && Number(length[1]) > 0) {
      this.state = 'length';
      this.remaining = Number(length[1]);
    } else this.state = 'head';
  }

  private done(): number {
    this.state = 'head';
    return this.status;
  }
}
