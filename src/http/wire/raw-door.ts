// The raw door (--raw-front-door): Herald reads the request heads of the two hot
// routes itself, on the server's TCP sockets, so a publish costs no IncomingMessage,
// ServerResponse or Node HTTP parser. Every connection starts here; the first
// request it does not fully recognise (request-head.ts, then the node:http door's
// own rule) and the socket, with every byte read so far put back, goes to Node's
// HTTP server for good, which then serves it exactly as if it had read it first.
//
// What it serves goes through the front door's Exchange (front-door.ts): the same
// edge functions, the same route code, the same replies. Keep-alive: sequential
// requests on one connection are served in order (a pipelined one waits for the
// reply before it is read). Deadlines mirror Node's: the head within
// --header-timeout of its first byte, the whole request within --request-timeout,
// an idle connection closed after --keep-alive-timeout; a late request gets the
// same 408 as from Node.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Exchange, type DoorRequest, type FrontDoor, type FrontDoorDeps } from '../front-door.js';
import { recognise } from '../front-door-recognise.js';
import { holdStreamSocket } from '../release-http.js';
import { readHead, MAX_HEAD_BYTES, type RequestHead } from './request-head.js';
import { HeadMemo } from './head-memo.js';
import { replyBytes } from './reply-head.js';
import { Sweeper } from './sweeper.js';

export interface RawDoorSettings {
  /** --body-limit: with a head, the most bytes held for a connection awaiting its reply. */
  readonly bodyLimit: number;
  readonly headerTimeoutMs: number;
  /** 0: no limit. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** The server's clientErrorHandler: the 400 and 408 replies Node's parser would give. */
  readonly clientError: (error: Error & { code?: string }, socket: Socket) => void;
  /** A request head arrived on a new connection (clears its first-head deadline and pending count). */
  readonly headArrived: (socket: Socket) => void;
}

type ConnectionListener = (this: Server, socket: Socket) => void;
const CONNECTION = Symbol('rawDoorConnection');
type RawSocket = Socket & { [CONNECTION]?: Connection };

/** Every byte of one request head and body at most, while a reply is awaited (more pauses the socket). */
const idle = 0;

/** One connection while the raw door owns it. */
class Connection {
  /** Unparsed bytes, from the start of the next request. */
  pending: Buffer | undefined;
  /** A POST whose body is still arriving. */
  head: RequestHead | undefined;
  /** The chunk the body starts in (at bodyStart: no subarray made), and any later chunks. */
  body: Buffer | undefined;
  bodyStart = 0;
  bodyMore: Buffer[] | undefined;
  /** Body bytes received so far (from bodyStart on). */
  bodyBytes = 0;
  /** A request is being served: its reply is awaited. */
  exchange: RawExchange | undefined;
  /** Epoch ms after which the connection is late (0: none). */
  deadline = idle;
  /** The request (head or body) in progress began arriving at this time. */
  requestStart = 0;
  servedOne = false;
  /** The previous POST head: a publisher repeats it but for Content-Length (head-memo.ts). */
  memo: HeadMemo | undefined;

  constructor(
    readonly door: RawDoor,
    readonly socket: RawSocket,
  ) {}
}

/** The request fields every shared function reads (DoorRequest), as a class: no getter closure per request. */
class RawRequest implements DoorRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHead['headers'];
  readonly httpVersionMajor = 1;

  constructor(
    head: RequestHead,
    readonly socket: Socket,
  ) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
}

/** A request the raw door serves: replies go straight to the socket as one write. */
class RawExchange extends Exchange {
  done = false;

  constructor(
    front: FrontDoor,
    deps: FrontDoorDeps,
    readonly connection: Connection,
    readonly head: RequestHead,
    queryText: string,
  ) {
    super(front, deps, new RawRequest(head, connection.socket), queryText);
  }

  protected holdSlot(): void {
    // Given back when the reply is written or the connection closes (Connection.closed).
  }

  streaming(socket: Socket): void {
    this.done = true;
    this.connection.door.streaming(this.connection);
    if (this.releaseSlot !== undefined) socket.once('close', this.releaseSlot);
  }

  reply(status: number, type: string, body: string, extra: Readonly<Record<string, string>> | undefined): void {
    if (this.done) return;
    this.done = true;
    this.releaseSlot?.();
    const connection = this.connection;
    const socket = connection.socket;
    if (this.method === 'POST') this.deps.telemetry?.publishAnswered(status);
    if (!socket.writable) return;
    const door = connection.door;
    const keepAlive = this.head.keepAlive && door.serving();
    // Head and body in one buffer: one write (one system call) per reply, whatever the body's encoding.
    socket.write(replyBytes(status, body, extra, type, keepAlive ? door.keepAliveSeconds : undefined, this.id));
    if (!keepAlive) {
      door.forget(connection);
      socket.end();
      return;
    }
    // A body still arriving (a request refused before it) is read and dropped first.
    if (connection.head === undefined) door.replied(connection);
  }
}

// Socket listeners shared by every connection (the connection hangs off the socket).
function onData(this: RawSocket, chunk: Buffer): void {
  const connection = this[CONNECTION];
  if (connection !== undefined) connection.door.received(connection, chunk);
}
function onEnd(this: RawSocket): void {
  const connection = this[CONNECTION];
  if (connection !== undefined) connection.door.ended(connection);
}
function onClose(this: RawSocket): void {
  const connection = this[CONNECTION];
  if (connection !== undefined) connection.door.closed(connection);
}
function onError(this: RawSocket): void {
  this.destroy();
}

/** Part of a request has arrived, and not all of it. */
function midRequest(connection: Connection): boolean {
  return connection.head !== undefined || (connection.exchange === undefined && connection.pending !== undefined);
}

/** Whether the raw door still owns the connection (a reply with Connection: close lets it go). */
function socketOwner(connection: Connection): boolean {
  return connection.socket[CONNECTION] === connection;
}

const INVALID_EOF = (): Error => Object.assign(new Error('Invalid EOF state'), { code: 'HPE_INVALID_EOF_STATE' });
const TIMED_OUT = (): Error => Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });

export class RawDoor {
  readonly stats = { served: 0, handedOver: 0 };
  private readonly connections = new Set<Connection>();
  private settings: RawDoorSettings | undefined;
  private sweeper: Sweeper | undefined;
  keepAliveSeconds = 5;

  constructor(
    private readonly front: FrontDoor,
    private readonly server: Server,
    private readonly nodeConnection: ConnectionListener,
  ) {}

  /** Until configured every connection goes straight to Node. */
  configure(settings: RawDoorSettings): void {
    this.settings = settings;
    this.keepAliveSeconds = Math.floor(settings.keepAliveTimeoutMs / 1000);
    const interval = Math.max(100, Math.min(1000, Math.floor(settings.headerTimeoutMs / 10)));
    this.sweeper = new Sweeper(interval, () => this.sweep());
    this.server.once('close', () => this.sweeper?.stop());
  }

  /** The server's 'connection' listener, in place of Node's. */
  accept(socket: RawSocket): void {
    if (this.settings === undefined || this.front.active() === undefined) {
      this.nodeConnection.call(this.server, socket);
      return;
    }
    const connection = new Connection(this, socket);
    socket[CONNECTION] = connection;
    this.connections.add(connection);
    connection.deadline = Date.now() + this.settings.headerTimeoutMs;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
  }

  /** Whether this door still serves (false once the server is closing: Fastify then answers 503 and connections end). */
  serving(): boolean {
    return this.front.active() !== undefined;
  }

  received(connection: Connection, chunk: Buffer): void {
    if (connection.head !== undefined) {
      if (connection.body === undefined) {
        connection.body = chunk;
        connection.bodyStart = 0;
      } else (connection.bodyMore ??= []).push(chunk);
      connection.bodyBytes += chunk.length;
      this.bodyProgress(connection);
      return;
    }
    if (connection.exchange !== undefined) {
      // A pipelined request: read once the reply is out; bounded meanwhile.
      connection.pending = connection.pending === undefined ? chunk : Buffer.concat([connection.pending, chunk]);
      if (connection.pending.length > MAX_HEAD_BYTES + this.settings!.bodyLimit) connection.socket.pause();
      return;
    }
    if (connection.pending === undefined) {
      connection.pending = chunk;
      connection.requestStart = Date.now();
      connection.deadline = connection.requestStart + this.settings!.headerTimeoutMs;
    } else connection.pending = Buffer.concat([connection.pending, chunk]);
    this.parse(connection);
  }

  /** Reads the next request from the pending bytes: serves it, waits for more, or hands the socket to Node. */
  private parse(connection: Connection): void {
    const bytes = connection.pending!;
    const remembered = connection.memo?.match(bytes);
    const head = remembered ?? readHead(bytes);
    if (head === 'partial') return;
    const deps = this.front.active();
    const queryText = head === 'foreign' || deps === undefined ? undefined : recognise(head, deps);
    if (head === 'foreign' || queryText === undefined) {
      this.handOver(connection);
      return;
    }
    if (!connection.servedOne) {
      connection.servedOne = true;
      this.settings!.headArrived(connection.socket);
    }
    this.stats.served++;
    this.front.stats.served++;
    const exchange = new RawExchange(this.front, deps!, connection, head, queryText);
    if (head.method === 'GET') {
      connection.pending = bytes.length === head.length ? undefined : bytes.subarray(head.length);
      this.begin(connection, exchange);
      return;
    }
    if (remembered === undefined) connection.memo = HeadMemo.of(bytes, head);
    connection.pending = undefined;
    connection.head = head;
    const rest = bytes.length - head.length;
    connection.body = rest === 0 ? undefined : bytes;
    connection.bodyStart = head.length;
    connection.bodyBytes = rest;
    connection.exchange = exchange;
    const timeout = this.settings!.requestTimeoutMs;
    connection.deadline = timeout === 0 ? idle : connection.requestStart + timeout;
    // The CSRF guard before the body, as Fastify's onRequest hook; a refused body is still read, then dropped.
    exchange.start();
    if (socketOwner(connection)) this.bodyProgress(connection);
  }

  private begin(connection: Connection, exchange: RawExchange): void {
    connection.exchange = exchange;
    connection.deadline = idle;
    exchange.start();
  }

  /** A POST's body so far: once whole, it is published (unless already refused) and what follows is the next request. */
  private bodyProgress(connection: Connection): void {
    const expected = Number(connection.head!.headers['content-length']);
    if (connection.bodyBytes < expected) return;
    let all = connection.body!;
    let start = connection.bodyStart;
    if (connection.bodyMore !== undefined) {
      all = Buffer.concat([all.subarray(start), ...connection.bodyMore], connection.bodyBytes);
      start = 0;
    }
    const end = start + expected;
    connection.pending = all.length === end ? undefined : all.subarray(end);
    connection.head = undefined;
    connection.body = undefined;
    connection.bodyMore = undefined;
    connection.bodyBytes = 0;
    connection.deadline = idle;
    const exchange = connection.exchange!;
    // The body is decoded straight from the chunk it arrived in (as UTF-8, as both parsers read it).
    if (exchange.done) this.replied(connection);
    else exchange.publish(all.toString('utf8', start, end));
  }

  /** The reply is out and the connection stays: read the next request, if any came. */
  replied(connection: Connection): void {
    connection.exchange = undefined;
    const socket = connection.socket;
    if (socket.isPaused()) socket.resume();
    if (connection.pending === undefined) {
      connection.deadline = Date.now() + this.settings!.keepAliveTimeoutMs;
      return;
    }
    connection.requestStart = Date.now();
    connection.deadline = connection.requestStart + this.settings!.headerTimeoutMs;
    // Not from within this reply's call stack: a client pipelining many requests that fail at once would nest deeply.
    setImmediate(() => {
      if (connection.exchange === undefined && connection.pending !== undefined && !socket.destroyed) this.parse(connection);
    });
  }

  /** An event stream took the socket: it keeps only what the stream needs. */
  streaming(connection: Connection): void {
    this.forget(connection);
    // holdStreamSocket's error listener destroys the socket too: one listener, not an array of two.
    connection.socket.removeListener('error', onError);
    holdStreamSocket(connection.socket);
    // Bytes after a stream's request could never be answered (as the node:http door does).
    if (connection.pending !== undefined) connection.socket.destroy();
  }

  /** The connection is no longer this door's to watch (it closes, streams, or went to Node). */
  forget(connection: Connection): void {
    const socket = connection.socket;
    socket[CONNECTION] = undefined;
    this.connections.delete(connection);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onClose);
    socket.removeListener('error', onError);
    // A late reply or failure of a forgotten connection still needs the socket to go away on error.
    if (!socket.destroyed && socket.listenerCount('error') === 0) socket.on('error', onError);
  }

  /** To Node's HTTP server, with every unparsed byte put back. */
  private handOver(connection: Connection): void {
    const socket = connection.socket;
    this.forget(connection);
    socket.removeListener('error', onError);
    this.stats.handedOver++;
    const paused = socket.isPaused();
    if (connection.pending !== undefined) socket.unshift(connection.pending);
    this.nodeConnection.call(this.server, socket);
    if (paused) socket.resume();
  }

  /** The client's FIN. Mid-request it is Node's 400 (its parser's EOF error); otherwise the connection ends, as Node's does. */
  ended(connection: Connection): void {
    const socket = connection.socket;
    if (midRequest(connection)) {
      this.forget(connection);
      this.settings!.clientError(INVALID_EOF(), socket);
      return;
    }
    connection.exchange?.releaseSlot?.();
    this.forget(connection);
    socket.end();
  }

  closed(connection: Connection): void {
    connection.exchange?.releaseSlot?.();
    this.forget(connection);
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      if (connection.deadline === idle || connection.deadline > now) continue;
      const socket = connection.socket;
      const late = midRequest(connection);
      this.forget(connection);
      if (late) this.settings!.clientError(TIMED_OUT(), socket);
      else socket.destroy();
    }
  }

  /** Node's closeIdleConnections for this door's connections: those between requests. */
  closeIdle(): void {
    for (const connection of this.connections) {
      if (connection.exchange === undefined && connection.pending === undefined && connection.head === undefined) {
        this.forget(connection);
        connection.socket.destroy();
      }
    }
  }

  closeAll(): void {
    for (const connection of this.connections) {
      this.forget(connection);
      connection.socket.destroy();
    }
  }
}

/**
 * Puts the raw door in front of Node's HTTP server: it takes the place of Node's own
 * 'connection' listener (so every other listener, the deadlines' included, still sees
 * each connection once) and widens closeIdleConnections/closeAllConnections to it.
 */
export function installRawDoor(server: Server, front: FrontDoor): RawDoor | undefined {
  const listeners = server.listeners('connection');
  const nodeConnection = listeners.find((listener) => listener.name === 'connectionListener') as ConnectionListener | undefined;
  if (nodeConnection === undefined || listeners.length !== 1) return undefined;
  const door = new RawDoor(front, server, nodeConnection);
  server.removeListener('connection', nodeConnection);
  server.on('connection', (socket: Socket) => door.accept(socket));
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    door.closeIdle();
  };
  server.closeAllConnections = () => {
    closeAll();
    door.closeAll();
  };
  return door;
}
