// One raw HTTP/1.1 exchange over a TCP socket, for the fuzz tests: sends exact bytes
// (however malformed), then reads until the server closes, a whole response has
// arrived, or an event stream's head has arrived, and reports what happened.
import { connect } from 'node:net';

export interface RawOutcome {
  /** The first response's status, or 0 when the connection closed without one. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The server ended the connection (rather than the reader stopping at a complete response). */
  readonly closed: boolean;
  /** Nothing decisive happened before the deadline. */
  readonly hung: boolean;
  readonly stream: boolean;
}

export interface RawRequest {
  readonly bytes: Buffer;
  /** Half-close after sending (a truncated body then ends there). */
  readonly end?: boolean;
  /** A HEAD request: its response has no body whatever Content-Length says. */
  readonly head?: boolean;
}

function parseHead(text: string): { status: number; headers: Record<string, string>; bodyStart: number } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, bodyStart: end + 4 };
}

export function rawExchange(port: number, request: RawRequest, timeoutMs = 5000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (outcome: Omit<RawOutcome, 'headers' | 'body' | 'status'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      // A 100 Continue is not the answer: skip to the final response.
      const text = received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const head = parseHead(text);
      resolve({ status: head?.status ?? 0, headers: head?.headers ?? {}, body: head === undefined ? '' : text.slice(head.bodyStart), ...outcome });
    };
    const timer = setTimeout(() => finish({ closed: false, hung: true, stream: false }), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(request.bytes);
      if (request.end === true) socket.end();
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const head = parseHead(received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
      if (head === undefined) return;
      if (head.headers['content-type']?.startsWith('text/event-stream')) return finish({ closed: false, hung: false, stream: true });
      const body = received.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '').slice(head.bodyStart);
      const length = head.headers['content-length'];
      const complete =
        request.head === true || head.status === 204 || head.status === 304 ||
        (length !== undefined ? Buffer.byteLength(body, 'latin1') >= Number(length) : head.headers['transfer-encoding'] === 'chunked' && body.endsWith('0\r\n\r\n'));
      if (complete) finish({ closed: false, hung: false, stream: false });
    });
    socket.on('error', () => finish({ closed: true, hung: false, stream: false }));
    socket.on('close', () => finish({ closed: true, hung: false, stream: false }));
  });
}
