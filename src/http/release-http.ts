// Once an event stream's head is on the socket (socket-sink.ts writes every byte
// after it straight to the socket), Node's HTTP server still holds, for as long as
// the stream lives, the request, the response and an HTTP parser for the connection:
// about 2 KB of heap and the parser's native state per idle subscriber. This hands
// the socket over the way Node itself does for an Upgrade (lib/_http_server.js:
// detach the response, remove the server's socket listeners, free the parser), so
// only the socket and what the hub needs remain.
//
// It relies on Node's internals (listener names, `_http_common.freeParser`), so it
// is all or nothing: when anything is not as expected it does nothing and the
// stream keeps Node's objects, as it did before. The front door calls it; Fastify's
// route does not (its Reply and hooks hold the response anyway).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

type FreeParser = (parser: unknown, request: unknown, socket: unknown) => void;

const freeParser: FreeParser | undefined = (() => {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown };
    return typeof common.freeParser === 'function' ? (common.freeParser as FreeParser) : undefined;
  } catch {
    return undefined;
  }
})();

/** The listeners Node's HTTP server puts on a connection's socket, by event. */
const SERVER_LISTENERS: readonly (readonly [string, string, boolean])[] = [
  // [event, listener name, required]
  ['data', 'bound socketOnData', true],
  ['end', 'bound socketOnEnd', true],
  ['close', 'bound socketOnClose', true],
  ['error', 'socketOnError', true],
  ['drain', 'bound socketOnDrain', false],
  ['timeout', 'socketOnTimeout', false],
  ['resume', 'onSocketResume', false],
  ['pause', 'onSocketPause', false],
];

// Shared by every released socket: no closure per connection.
function destroySocket(this: Socket): void {
  this.destroy();
}
function endSocket(this: Socket): void {
  this.end();
}

/**
 * Releases Node's per-request state of an HTTP/1 event stream whose head was written
 * to `socket`. Afterwards the socket is the stream's alone: its 'close' still comes
 * (the client's FIN is read and answered with ours, as Node's server did); bytes the
 * client sends after its request (a pipelined request can never be answered on an
 * event stream) end the connection; a socket error destroys it. Returns false when
 * nothing was released.
 */
export function releaseHttpState(request: IncomingMessage, response: ServerResponse, socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: unknown }).parser;
  if (freeParser === undefined || parser === null || parser === undefined || !request.complete) return false;
  const found: [string, (...args: unknown[]) => void][] = [];
  for (const [event, name, required] of SERVER_LISTENERS) {
    const listener = socket.listeners(event).find((l) => l.name === name) as ((...args: unknown[]) => void) | undefined;
    if (listener !== undefined) found.push([event, listener]);
    else if (required) return false;
  }
  response.detachSocket(socket);
  for (const [event, listener] of found) socket.removeListener(event, listener);
  freeParser(parser, request, socket);
  holdStreamSocket(socket);
  return true;
}

/**
 * A socket that carries an event stream and nothing else: the client's FIN is read
 * and answered with ours, bytes the client sends (a request after a stream's can
 * never be answered) end the connection, an error destroys it.
 */
export function holdStreamSocket(socket: Socket): void {
  socket.on('error', destroySocket);
  socket.on('end', endSocket);
  socket.on('data', destroySocket);
  // Keep reading, or the client's FIN would go unnoticed until a write failed.
  socket.resume();
}
