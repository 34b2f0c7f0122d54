// A SubscriberSink over a response object: used for HTTP/2 streams (HTTP/1.1 writes
// to the socket, see socket-sink.ts). The bytes the response still holds count
// against the slow-consumer cap.
import type { Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { SubscriberSink } from '../hub/fanout/subscriber.js';

type AnyResponse = ServerResponse | Http2ServerResponse;

/** Http2ServerResponse has no `destroyed`: its stream does. */
function isGone(response: AnyResponse): boolean {
  return 'stream' in response ? response.stream.destroyed : response.destroyed;
}

export class ResponseSink implements SubscriberSink {
  private readonly response: AnyResponse;

  constructor(response: AnyResponse) {
    this.response = response;
  }

  write(chunk: Buffer): void {
    // Both response kinds take a Buffer; the union's overloads just do not unify.
    if (!this.response.writableEnded && !isGone(this.response)) (this.response as ServerResponse).write(chunk);
  }

  pendingBytes(): number {
    return this.response.writableLength;
  }

  close(): void {
    if (isGone(this.response)) return;
    // A client that stopped reading would keep an orderly end waiting forever.
    if (this.response.writableLength > 0) this.response.destroy();
    else (this.response as ServerResponse).end();
  }
}
