// A SubscriberSink over a Node response: the hub's bytes go to the socket as they
// are; the bytes Node still holds are what counts against the slow-consumer cap.
import type { ServerResponse } from 'node:http';
import type { SubscriberSink } from '../hub/subscriber.js';

export class ResponseSink implements SubscriberSink {
  private readonly response: ServerResponse;

  constructor(response: ServerResponse) {
    this.response = response;
  }

  write(chunk: Buffer): void {
    if (!this.response.writableEnded && !this.response.destroyed) this.response.write(chunk);
  }

  pendingBytes(): number {
    return this.response.writableLength;
  }

  close(): void {
    if (this.response.destroyed) return;
    // A client that stopped reading would keep an orderly end waiting forever.
    if (this.response.writableLength > 0) this.response.destroy();
    else this.response.end();
  }
}
