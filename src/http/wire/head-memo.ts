// A publisher on a keep-alive connection sends the same request head again and again
// but for its Content-Length value. The raw door keeps the previous POST head of each
// connection and, when the next head's bytes are the same except for the digits of
// that value, makes its RequestHead from the one already read: no latin1 text of the
// head, no pass of the grammar's regular expression over it, no header name lookups
// or value slices (about 3% of a publish's CPU and 0.5 KB of its garbage).
//
// It answers exactly what readHead would: the bytes before the value and after it are
// compared in full (memcmp) with a head readHead accepted, so every header, the method,
// the target and the version are the same; the value is 1-15 ASCII digits, which
// readHead reads as they are (its trimmed whitespace is part of the compared bytes).
// A head that differs anywhere else, or that has not fully arrived, is read in full.
import { MAX_HEAD_BYTES, type RequestHead } from './request-head.js';

/** recognise() takes at most 15 digits; a longer run is left to the full reader. */
const MAX_DIGITS = 15;

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

export class HeadMemo {
  private constructor(
    /** The remembered head's bytes. */
    private readonly bytes: Buffer,
    /** The Content-Length value's digits: [valueStart, valueEnd). */
    private readonly valueStart: number,
    private readonly valueEnd: number,
    private readonly head: RequestHead,
  ) {}

  /** A memo of `head`, read by readHead from the start of `bytes`; undefined when it has no plain Content-Length. */
  static of(bytes: Buffer, head: RequestHead): HeadMemo | undefined {
    const value = head.headers['content-length'];
    if (head.lengthAt < 0 || value === undefined || value.length === 0 || value.length > MAX_DIGITS) return undefined;
    for (let i = 0; i < value.length; i++) if (!isDigit(value.charCodeAt(i))) return undefined;
    // No copy of the bytes: the socket's chunks and their concatenations are never written to.
    // The headers are copied: the exchange that read them owns that object.
    return new HeadMemo(bytes.subarray(0, head.length), head.lengthAt, head.lengthAt + value.length, { ...head, headers: { ...head.headers } });
  }

  /** The head at the start of `bytes` when it is the remembered one with another length; undefined: read it in full. */
  match(bytes: Buffer): RequestHead | undefined {
    const memo = this.bytes;
    const start = this.valueStart;
    if (bytes.length <= start || bytes.compare(memo, 0, start, 0, start) !== 0) return undefined;
    let end = start;
    while (end - start <= MAX_DIGITS && isDigit(bytes[end])) end++;
    if (end === start || end - start > MAX_DIGITS) return undefined;
    // The rest never begins with a digit: the remembered value ended before whitespace or CR.
    const rest = memo.length - this.valueEnd;
    const length = end + rest;
    if (length > MAX_HEAD_BYTES || bytes.length < length || bytes.compare(memo, this.valueEnd, memo.length, end, length) !== 0) return undefined;
    const head = this.head;
    return {
      method: head.method,
      url: head.url,
      httpVersionMajor: 1,
      httpVersionMinor: head.httpVersionMinor,
      headers: { ...head.headers, 'content-length': bytes.toString('latin1', start, end) },
      length,
      keepAlive: head.keepAlive,
      lengthAt: start,
    };
  }
}
