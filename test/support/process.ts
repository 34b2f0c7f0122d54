// Runs `herald serve` as a child process (the real CLI, through tsx), for tests that
// restart or kill the server. The URL is read from its first log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface HeraldProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Everything it printed so far (stdout then stderr lines interleaved as they came), for assertions and failure messages. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface SpawnOptions {
  /** Its own process group (pid = group id), so a test can signal the whole group as systemd does. */
  readonly detached?: boolean;
}

export async function spawnHerald(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000, options: SpawnOptions = {}): Promise<HeraldProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'info', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached === true,
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  let stderr = '';
  let printed = '';
  const keep = (chunk: Buffer) => {
    printed = (printed + chunk.toString()).slice(-200_000);
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    keep(chunk);
  });
  child.stdout?.on('data', keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herald exited (${code}) before listening: ${stderr}`));
    });
  });
  child.stdout?.resume();
  return {
    url,
    child,
    exited,
    output: () => printed,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
