// One bench subscriber: a raw TCP socket holding an SSE stream, plus what it has
// received in the current scenario. Loss and duplicates are checked by seq with a
// growable bitset (publishers may complete requests out of order, so "seq must
// increase" would be wrong); latency goes straight into the worker's histogram.
import { connect, type Socket } from 'node:net';
import { Histogram } from './histogram.js';
import { nowUs } from './protocol.js';
import { SseReader } from './sse-reader.js';

/** What all subscriptions of one worker add up to during a scenario. */
export class Tally {
  tag = -1;
  delivered = 0;
  duplicates = 0;
  stale = 0;
  disconnects = 0;
  firstUs = 0;
  lastUs = 0;
  readonly histogram = new Histogram();
  /** Latency from the actual send: `histogram` without the publisher's lateness. */
  readonly fromSend = new Histogram();

  reset(tag: number): void {
    this.tag = tag;
    this.delivered = 0;
    this.duplicates = 0;
    this.stale = 0;
    this.disconnects = 0;
    this.firstUs = 0;
    this.lastUs = 0;
    this.histogram.reset();
    this.fromSend.reset();
  }
}

export interface SubscriptionTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly localAddress?: string;
}

/** Shared by every socket of the worker: each read is parsed before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export class Subscription {
  private socket: Socket | undefined;
  private seen = new Uint8Array(16);
  private seenTag = -1;
  /** Unique deliveries in the current tag. */
  unique = 0;
  /** The tag of the last readiness probe (seq 0) received. */
  readyTag = -1;
  open = false;
  private markClosed: () => void = () => undefined;
  /** Settles when the socket has closed, whoever closed it. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    readonly topic: number,
    private readonly tally: Tally,
  ) {}

  /** Resolves once the response head is in (status 200), rejects otherwise. */
  connect(target: SubscriptionTarget, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve();
      };
      const reader = new SseReader({
        onHead: (status) => {
          if (status !== 200) return settle(new Error(`HTTP ${status}`));
          this.open = true;
          settle();
        },
        onEvent: (tag, seq, sendUs, lateUs) => this.onEvent(tag, seq, sendUs, lateUs),
      });
      const socket = connect({
        host: target.host,
        port: target.port,
        localAddress: target.localAddress,
        // Reads land in one shared buffer and skip the stream machinery: the load
        // generator's cost per delivery is mostly this path.
        onread: {
          buffer: READ_BUFFER,
          callback: (bytes: number, buffer: Uint8Array): boolean => {
            try {
              reader.feed((buffer as Buffer).toString('latin1', 0, bytes));
            } catch (error) {
              settle(error as Error);
              socket.destroy();
            }
            return true;
          },
        },
      });
      this.socket = socket;
      const timer = setTimeout(() => settle(new Error('subscribe timed out')), timeoutMs);
      socket.on('connect', () => {
        socket.write(
          `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
            'Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n',
        );
      });
      socket.on('error', (error) => settle(error));
      socket.on('close', () => {
        this.markClosed();
        if (this.open) this.tally.disconnects++;
        this.open = false;
        settle(new Error('closed before the response head'));
      });
    });
  }

  private onEvent(tag: number, seq: number, sendUs: number, lateUs: number): void {
    const tally = this.tally;
    if (tag !== tally.tag) {
      tally.stale++;
      return;
    }
    if (seq === 0) {
      this.readyTag = tag;
      return;
    }
    if (this.seenTag !== tag) {
      this.seen.fill(0);
      this.seenTag = tag;
      this.unique = 0;
    }
    const byte = seq >>> 3;
    if (byte >= this.seen.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    const bit = 1 << (seq & 7);
    if ((this.seen[byte]! & bit) !== 0) {
      tally.duplicates++;
      return;
    }
    this.seen[byte]! |= bit;
    this.unique++;
    const now = nowUs();
    tally.delivered++;
    if (tally.firstUs === 0) tally.firstUs = now;
    tally.lastUs = now;
    tally.histogram.record(now - sendUs);
    tally.fromSend.record(now - sendUs - lateUs);
  }

  /** Unique deliveries of `tag` so far (0 when none arrived in it yet). */
  uniqueIn(tag: number): number {
    return this.seenTag === tag ? this.unique : 0;
  }

  close(): void {
    this.open = false;
    this.socket?.destroy();
  }
}
