// The HTTP/1.1 event-stream sink: after the response head, the hub's bytes go
// straight to the TCP socket — no chunk framing, no ServerResponse bookkeeping per
// write. The body is delimited by closing the connection (`Connection: close`),
// which RFC 9112 §6.3 allows for a response without Content-Length or
// Transfer-Encoding, and which is how an event stream ends anyway.
import type { Socket } from 'node:net';
import type { Subscriber, SubscriberSink } from '../hub/fanout/subscriber.js';

/** What ends a stream when its socket closes (the hub). */
export interface StreamOwner {
  disconnect(subscriber: Subscriber): void;
}

const SINK = Symbol('socketSink');
type SinkSocket = Socket & { [SINK]?: SocketSink };

// One 'close' listener shared by every stream: no closure per connection.
function onStreamSocketClose(this: SinkSocket): void {
  this[SINK]?.socketClosed();
}

const SAFE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Serializes a response head; refuses values that could split the head. */
export function responseHead(status: number, reason: string, headers: Record<string, string | number | readonly string[] | undefined>): Buffer {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one);
      if (!SAFE_HEADER_VALUE.test(text) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw new Error(`refusing to write header ${JSON.stringify(name)}: invalid characters`);
      }
      head += `${name}: ${text}\r\n`;
    }
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

export class SocketSink implements SubscriberSink {
  private readonly socket: Socket;
  private owner: StreamOwner | undefined;
  private subscriber: Subscriber | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** When the socket closes, `owner` disconnects `subscriber`. */
  endsWithSocket(owner: StreamOwner, subscriber: Subscriber): void {
    this.owner = owner;
    this.subscriber = subscriber;
    (this.socket as SinkSocket)[SINK] = this;
    this.socket.on('close', onStreamSocketClose);
  }

  socketClosed(): void {
    if (this.owner !== undefined && this.subscriber !== undefined) this.owner.disconnect(this.subscriber);
  }

  write(chunk: Buffer): void {
    if (this.socket.writable) this.socket.write(chunk);
  }

  pendingBytes(): number {
    return this.socket.writableLength;
  }

  close(): void {
    if (this.socket.destroyed) return;
    // A client that stopped reading would keep an orderly end waiting forever.
    if (this.socket.writableLength > 0) this.socket.destroy();
    else this.socket.end();
  }
}
