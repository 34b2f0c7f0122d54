// Half-open streams with data in flight. TCP keepalive finds a client whose network
// vanished only while nothing is unacknowledged; once a heartbeat or an update was
// written to it, the kernel retransmits for about 15 minutes (tcp_retries2) and Node
// cannot set TCP_USER_TIMEOUT to shorten that. Linux shows every socket's retransmission
// state in /proc/net/tcp{,6}: a stream socket whose retransmission timer fired N times in
// a row without an ACK has a peer that is gone, so this sweep destroys it (its subscriber
// ends and presence announces the leave). docs/operations.md, "Half-open streams".
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { guarded } from '../timers.js';
import { SocketSink } from './socket-sink.js';

/** How often the sweep reads the kernel's tables (only while streams are open). */
export const DEAD_PEER_SWEEP_MS = 5000;

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

// A line of /proc/net/tcp: "  sl  local rem st tx_queue:rx_queue tr:tm->when retrnsmt ...".
// Addresses are hex in the kernel's byte order, ports hex; tr 01 is the retransmission timer.
const LINE = /^\s*\d+: ([0-9A-F]+):([0-9A-F]{4}) ([0-9A-F]+):([0-9A-F]{4}) [0-9A-F]{2} [0-9A-F]+:[0-9A-F]+ ([0-9A-F]{2}):[0-9A-F]+ ([0-9A-F]+)/gm;

/** One spelling per address whatever the table or Node's form: dotted IPv4 (also for IPv4-mapped IPv6), else eight 4-digit hex groups. */
export function canonicalAddress(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(plain)) return plain;
  // A trailing dotted quad (::ffff:1.2.3.4) is the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(plain);
  const hexQuad = (a: string, b: string): string => ((Number(a) << 8) | Number(b)).toString(16);
  const text = quad ? `${plain.slice(0, quad.index)}${hexQuad(quad[1]!, quad[2]!)}:${hexQuad(quad[3]!, quad[4]!)}` : plain;
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = (tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]).map((g) => g.padStart(4, '0'));
  if (groups.slice(0, 5).every((g) => g === '0000') && groups[5] === 'ffff') {
    const low = Number.parseInt(`${groups[6]}${groups[7]}`, 16);
    return [low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff].join('.');
  }
  return groups.join(':');
}

/** A table's hex address (32-bit words in host byte order, little-endian here) in canonicalAddress's spelling. */
export function tableAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(hex.slice(word + i, word + i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).padStart(4, '0'));
  return groups.join(':');
}

/** The key of one connection as the sweep compares them: local port, remote address, remote port. */
export function connectionKey(localPort: number, remoteAddress: string, remotePort: number): string {
  return `${localPort}|${remoteAddress}|${remotePort}`;
}

export interface TableEntry {
  readonly key: string;
  /** The kernel's active timer: 1 retransmission, 2 keepalive, 4 zero-window probe, 0 none. */
  readonly timer: number;
  /** How many times in a row that timer fired without the peer answering. */
  readonly retransmits: number;
}

/** Every connection of a /proc/net/tcp{,6} table. */
export function* tableEntries(table: string): Generator<TableEntry> {
  for (const match of table.matchAll(LINE)) {
    yield {
      key: connectionKey(Number.parseInt(match[2]!, 16), tableAddress(match[3]!), Number.parseInt(match[4]!, 16)),
      timer: Number.parseInt(match[5]!, 16),
      retransmits: Number.parseInt(match[6]!, 16),
    };
  }
}

// " 01:" occurs on a line only as the timer field set to the retransmission timer (the
// slot number is decimal without leading zeros, addresses are 8 or 32 hex digits).
const RETRANSMITTING = Buffer.from(' 01:', 'latin1');
const NEWLINE = 0x0a;

/**
 * The connections of a table whose retransmission timer fired at least `minRetransmits`
 * times in a row. Only lines with that timer are decoded and parsed: a table of 10k idle
 * sockets costs one byte search, not 10k regular-expression matches.
 */
export function retransmitting(table: Buffer, minRetransmits: number): Set<string> {
  const found = new Set<string>();
  let at = table.indexOf(RETRANSMITTING);
  while (at >= 0) {
    const start = table.lastIndexOf(NEWLINE, at) + 1;
    const newline = table.indexOf(NEWLINE, at);
    const end = newline < 0 ? table.length : newline;
    for (const entry of tableEntries(table.toString('latin1', start, end))) {
      if (entry.timer === 1 && entry.retransmits >= minRetransmits) found.add(entry.key);
    }
    at = newline < 0 ? -1 : table.indexOf(RETRANSMITTING, end);
  }
  return found;
}

/** What the sweep needs of the hub: its streams' sinks. */
export interface StreamSource {
  readonly subscriberCount: number;
  sinks(): Iterable<unknown>;
}

export interface DeadPeerOptions {
  /** Consecutive unanswered retransmissions that make a peer dead (0: no sweep). */
  readonly retransmits: number;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

/** Starts the sweep (Linux only: elsewhere, or with 0 retransmits, it does nothing); returns its stop. */
export function sweepDeadPeers(streams: StreamSource, options: DeadPeerOptions): () => void {
  if (options.retransmits <= 0 || !existsSync(TABLES[0])) return () => {};
  let running = false;
  const sweep = async (): Promise<void> => {
    if (running || streams.subscriberCount === 0) return;
    running = true;
    try {
      const tables = await Promise.all(TABLES.map((file) => readFile(file).catch(() => Buffer.alloc(0))));
      const dead = new Set<string>();
      for (const table of tables) for (const key of retransmitting(table, options.retransmits)) dead.add(key);
      if (dead.size === 0) return;
      for (const sink of [...streams.sinks()]) {
        if (!(sink instanceof SocketSink)) continue;
        const key = sink.connectionKey();
        if (key !== undefined && dead.has(key)) {
          options.logger.warn({ peer: key, retransmits: options.retransmits }, 'stream peer acknowledges nothing: dropped');
          sink.abort();
        }
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(guarded('dead-peer sweep', () => void sweep().catch((error: unknown) => options.logger.warn({ err: error }, 'dead-peer sweep failed')), options.logger), options.intervalMs ?? DEAD_PEER_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
