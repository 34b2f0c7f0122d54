// Deadlines on connections, so idle and slow clients cannot hold sockets (and file
// descriptors) for ever: a request head within --header-timeout, a whole request
// within --request-timeout, idle keep-alive for --keep-alive-timeout, a TLS
// handshake within the head deadline, and at most --max-pending-per-ip connections
// per address that have not sent a request head yet.
//
// Node checks headersTimeout/requestTimeout only on requests still arriving: once
// a GET's head is parsed the request is complete, so an event stream that lasts
// hours is never cut by them. The checker runs every connectionsCheckingInterval
// (30 s by default, which would let a 10 s deadline slip to 40 s).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { LimitLog } from '../edge/limits.js';

export interface DeadlineOptions {
  readonly headerTimeoutMs: number;
  /** 0: no limit. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** 0: no limit. */
  readonly maxPendingPerIp: number;
  /**
   * Plain HTTP/1: arm our own head deadline on every new socket. Node's headersTimeout
   * only runs once a request has begun, so a socket that never sends a byte would be
   * held for ever (TLS sockets have the handshake deadline, HTTP/2 sessions theirs).
   */
  readonly plainHttp?: boolean;
}

/** The Node server as both HTTP/1 and HTTP/2-with-HTTP/1-fallback expose it. */
type DeadlineServer = Pick<Server, 'on' | 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout'> & { connectionsCheckingInterval?: number };

/**
 * Call before listen: the deadline checker starts on 'listening' with these values.
 * Returns what a door that reads request heads itself (the raw door) calls when a
 * connection's first head arrived, as Node's 'request' event does for the rest.
 */
export function applyDeadlines(server: DeadlineServer, options: DeadlineOptions, log: LimitLog): (socket: Socket) => void {
  server.headersTimeout = options.headerTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(options.headerTimeoutMs / 10)));
  const arrived: ((socket: Socket) => void)[] = [];
  if (options.plainHttp === true && options.headerTimeoutMs > 0) arrived.push(reapSilentSockets(server, options.headerTimeoutMs));
  if (options.maxPendingPerIp > 0) arrived.push(trackPending(server, options.maxPendingPerIp, log));
  for (const headArrived of arrived) server.on('request', (request: { socket: Socket }) => headArrived(request.socket));
  return (socket) => {
    for (const headArrived of arrived) headArrived(socket);
  };
}

const headDeadline = Symbol('headDeadline');
type DeadlineSocket = Socket & { [headDeadline]?: NodeJS.Timeout };

// Shared by every socket: once its head arrives a connection keeps no timer, closure or listener of this.
function destroyLate(socket: Socket): void {
  socket.destroy();
}
function clearHeadDeadline(this: DeadlineSocket): void {
  const timer = this[headDeadline];
  if (timer === undefined) return;
  clearTimeout(timer);
  this[headDeadline] = undefined;
  this.removeListener('close', clearHeadDeadline);
}

/** Destroys a socket whose first request head has not arrived within `timeoutMs`. */
function reapSilentSockets(server: DeadlineServer, timeoutMs: number): (socket: DeadlineSocket) => void {
  server.on('connection', (socket: DeadlineSocket) => {
    const timer = setTimeout(destroyLate, timeoutMs, socket);
    timer.unref();
    socket[headDeadline] = timer;
    socket.on('close', clearHeadDeadline);
  });
  return (socket) => clearHeadDeadline.call(socket);
}

function trackPending(server: DeadlineServer, max: number, log: LimitLog): (socket: Socket) => void {
  const perAddress = new Map<string, number>();
  // By address and port: over TLS the request's socket is not the TCP one, but has its ends.
  const pending = new Map<string, string>();
  const release = (key: string): void => {
    const address = pending.get(key);
    if (address === undefined) return;
    pending.delete(key);
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left <= 0) perAddress.delete(address);
    else perAddress.set(address, left);
  };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = perAddress.get(address) ?? 0;
    if (count >= max) {
      log.note('pending_connections', address);
      socket.destroy();
      return;
    }
    const key = `${address}|${String(socket.remotePort)}`;
    perAddress.set(address, count + 1);
    pending.set(key, address);
    socket.once('close', () => release(key));
  });
  return (socket) => release(`${socket.remoteAddress ?? 'unknown'}|${String(socket.remotePort)}`);
}
