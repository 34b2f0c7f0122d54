// One Herald process of the cluster: the real CLI (`herald serve`, loaded through
// tsx so the cluster always runs the current source) on a fixed port, resolved
// once it logs the address it listens on.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { manage, readLines, type ManagedChild } from './children.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface HeraldNode extends ManagedChild {
  readonly url: string;
  readonly port: number;
}

export interface HeraldNodeOptions {
  readonly name: string;
  readonly port: number;
  /** More `herald serve` flags (store, keys, public URL...). */
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly onLine?: (line: string) => void;
  readonly startTimeoutMs?: number;
}

export async function startHeraldNode(options: HeraldNodeOptions): Promise<HeraldNode> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'serve', '--host', '127.0.0.1', '--port', String(options.port), ...options.args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const managed = manage(options.name, child);
  let output = '';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    readLines(child, (line) => {
      output += `${line}\n`;
      options.onLine?.(line);
      const match = /"url":"(http:\/\/[^"]+)"/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void managed.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${code}) before listening:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await managed.stop('SIGKILL');
    throw error;
  });
  return { ...managed, url, port: options.port };
}
