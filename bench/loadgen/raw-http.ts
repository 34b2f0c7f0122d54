// A lean HTTP/1.1 keep-alive client for the publisher: a fixed pool of sockets, one
// request in flight on each, requests written as one string and responses parsed
// only as far as status and body framing. node:http's client costs several times
// more CPU and garbage per request; on the one load CPU that showed up as publisher
// lateness (counted as latency) and as a cap on the baselines' publishes/s.
import { connect, type Socket } from 'node:net';
import { ResponseReader } from './response-reader.js';

/**
 * A connection idle this long is replaced before its next request: servers close idle
 * keep-alive sockets (Node's after 5 s), and a request written as they do would fail.
 */
const MAX_IDLE_MS = 2000;

interface Pending {
  readonly text: string;
  readonly resolve: (status: number) => void;
  readonly reject: (error: Error) => void;
}

class Connection {
  private socket: Socket | undefined;
  private current: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleSince = 0;
  private readonly reader = new ResponseReader();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly onIdle: (connection: Connection) => void,
  ) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  send(request: Pending): void {
    this.current = request;
    this.timer = setTimeout(() => this.fail(new Error('publish timed out')), this.timeoutMs);
    if (this.socket && Date.now() - this.idleSince > MAX_IDLE_MS) this.drop();
    const socket = this.socket ?? this.open();
    socket.write(request.text);
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.reader.reset();
    // Events of a socket already dropped (replaced, or failed) concern no request.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      let status: number | undefined;
      try {
        status = this.reader.feed(chunk.toString('latin1'));
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      if (status === undefined) return;
      if (this.reader.closeAfter) this.drop();
      this.finish()?.resolve(status);
    });
    // The server's FIN (e.g. its keep-alive timeout): the socket takes no further request.
    const gone = (error: Error): void => {
      if (this.socket === socket) this.fail(error);
    };
    socket.on('end', () => gone(new Error('connection closed before the response')));
    socket.on('close', () => gone(new Error('connection closed before the response')));
    socket.on('error', gone);
    this.socket = socket;
    return socket;
  }

  /** Clears the request in flight and reports the connection idle; returns the request. */
  private finish(): Pending | undefined {
    const done = this.current;
    this.current = undefined;
    this.idleSince = Date.now();
    clearTimeout(this.timer);
    if (done) queueMicrotask(() => this.onIdle(this));
    return done;
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  /** Drops the socket, and rejects the request in flight if any. */
  private fail(error: Error): void {
    this.drop();
    this.finish()?.reject(error);
  }

  close(): void {
    this.fail(new Error('client closed'));
  }
}

export class RawHttpPool {
  private readonly connections: Connection[];
  private readonly queue: Pending[] = [];
  private readonly hostHeader: string;

  constructor(host: string, port: number, size: number, timeoutMs = 30_000) {
    this.hostHeader = `${host}:${port}`;
    this.connections = Array.from({ length: Math.max(1, size) }, () => new Connection(host, port, timeoutMs, (c) => this.next(c)));
  }

  /** POSTs `body` (UTF-8) with `headers`; resolves with the status (body read and dropped). */
  post(path: string, body: string, headers: Readonly<Record<string, string>>): Promise<number> {
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const text = `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      const request = { text, resolve, reject };
      const idle = this.connections.find((c) => !c.busy);
      if (idle) idle.send(request);
      else this.queue.push(request);
    });
  }

  private next(connection: Connection): void {
    const request = this.queue.shift();
    if (request && !connection.busy) connection.send(request);
  }

  close(): void {
    for (const request of this.queue.splice(0)) request.reject(new Error('client closed'));
    for (const connection of this.connections) connection.close();
  }
}
