// The client's address as Fastify's `request.ip` works it out, for the front door:
// the socket's peer, or with --trust-proxy (every hop trusted, as Fastify's
// `trustProxy: true`) the first address of X-Forwarded-For, read by the same library
// Fastify uses (@fastify/proxy-addr), so limits count a client alike through both doors.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

const TRUST_EVERY_HOP = (): boolean => true;

export function clientIp(request: Pick<IncomingMessage, 'headers' | 'socket'>, trustProxy: boolean): string {
  if (!trustProxy) return request.socket.remoteAddress as string;
  // proxy-addr reads only these two fields.
  const addresses = proxyAddr.all(request as IncomingMessage, TRUST_EVERY_HOP);
  return addresses[addresses.length - 1] as string;
}
