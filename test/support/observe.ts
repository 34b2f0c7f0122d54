// Watching a Herald from the outside in observability and fault tests: its JSON log
// lines (awaited with deadlines), its metrics text, its resident memory from /proc,
// and a loopback port that a restarted server can take again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

export type LogLine = Record<string, unknown> & { level: number; msg?: string };

export interface LogCapture {
  readonly lines: LogLine[];
  /** Resolves with the first line (already seen or to come) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
}

/** Collects the JSON lines written to `stream` (pino's output) from now on. */
export function captureLogs(stream: Readable): LogCapture {
  const lines: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let partial = '';
  stream.on('data', (chunk: Buffer | string) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) {
      if (text.trim() === '') continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        lines.push({ level: 0, msg: text });
      }
    }
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    lines,
    waitFor: (match, timeoutMs = 5000, what = 'a matching log line') =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last lines: ${JSON.stringify(lines.slice(-5))}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            clearTimeout(deadline);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

/** A pino destination that keeps lines in memory, for in-process Heralds. */
export function memoryDestination(): { write(chunk: string): void; readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, write: (chunk) => void lines.push(JSON.parse(chunk) as LogLine) };
}

/** The value of one sample line of Prometheus text, e.g. `herald_connections`. */
export function metricSample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is in the exposition`);
  return Number(line.slice(series.length + 1));
}

export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/** Resident set size of another process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, `VmRSS of ${pid}`);
  return Number(match[1]) * 1024;
}

export { freePort } from '../../scripts/cluster/ports.js';
