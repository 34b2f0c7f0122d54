// The HTTP/1.1 event-stream sink: after the response head, the hub's bytes go
// straight to the TCP socket — no chunk framing, no ServerResponse bookkeeping per
// write. The body is delimited by closing the connection (`Connection: close`),
// which RFC 9112 §6.3 allows for a response without Content-Length or
// Transfer-Encoding, and which is how an event stream ends anyway.
import type { Socket } from 'node:net';
import type { Subscriber, SubscriberSink } from '../hub/fanout/subscriber.js';
import { canonicalAddress, connectionKey } from './dead-peers.js';

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

/** How long an ended stream may wait for its peer's FIN before it is destroyed. */
const END_GRACE_MS = 2000;

function destroyOnTimeout(this: Socket): void {
  this.destroy();
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

  /** The connection as the dead-peer sweep names it (undefined once the socket is gone). */
  connectionKey(): string | undefined {
    const { localPort, remoteAddress, remotePort } = this.socket;
    if (localPort === undefined || remoteAddress === undefined || remotePort === undefined) return undefined;
    return connectionKey(localPort, canonicalAddress(remoteAddress), remotePort);
  }

  /** Drops a connection whose peer is gone: no orderly end, which would wait for it. */
  abort(): void {
    this.socket.destroy();
  }

  close(): void {
    if (this.socket.destroyed) return;
    // A client that stopped reading would keep an orderly end waiting forever.
    if (this.socket.writableLength > 0) {
      this.socket.destroy();
      return;
    }
    this.socket.end();
    // So would one whose network is gone (what Node wrote is still in the kernel,
    // unacknowledged), and a closing server waits for it: give the end a grace period.
    this.socket.setTimeout(END_GRACE_MS, destroyOnTimeout);
  }
}
