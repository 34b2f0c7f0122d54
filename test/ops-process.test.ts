// The process as an operator runs it: logging into a pipe whose reader goes away,
// `--workers` stopped by a signal to the whole process group (systemd's default),
// and a shared Redis store with no key configured.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { ChatClient } from './chat-client.js';
import { hubUrl } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { freePort } from './support/observe.js';
import { rawExchange } from './support/raw-http.js';
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './support/redis-prefix.js';
import { collect } from './support/stream.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const prefixes: string[] = [];
after(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

let healthy = false;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000, refresh?: () => Promise<void>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await refresh?.();
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

test('stdout piped into a reader that exits (`herald serve | head -c 300`): SIGTERM still ends the process in bounds', async () => {
  const port = await freePort();
  // A real shell pipeline: head takes the first startup lines and exits, so every later log write meets EPIPE.
  const shell = spawn('sh', ['-c', `exec "$0" --import tsx "$1" serve --host 127.0.0.1 --port ${port} --store memory --no-chat --shutdown-timeout 1000 | head -c 300 >/dev/null`, process.execPath, CLI], { stdio: 'ignore' });
  const shellExited = once(shell, 'exit');
  try {
    await until('the hub answering /healthz', () => (healthy ? true : undefined), 20_000, async () => {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    });
    const [pid] = childrenOf(shell.pid!).filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('cli.ts'));
    assert.ok(pid !== undefined, 'the herald process in the pipeline');
    const startedAt = Date.now();
    process.kill(pid, 'SIGTERM');
    await until('the herald process gone', () => (isAlive(pid) ? undefined : true), 6000);
    assert.ok(Date.now() - startedAt < 6000);
    await within(shellExited, 5000, 'the pipeline ending');
  } finally {
    healthy = false;
    for (const child of childrenOf(shell.pid!)) process.kill(child, 'SIGKILL');
    shell.kill('SIGKILL');
  }
});

test('--workers 2, SIGTERM to the whole process group: every worker drains gracefully, exit 0', async () => {
  const prefix = uniquePrefix('ops-group');
  prefixes.push(prefix);
  const herald = await spawnHerald(['--workers', '2', '--store', SHARED_REDIS, '--redis-prefix', prefix, '--no-chat', '--no-subscriptions'], {}, 20_000, { detached: true });
  const primary = herald.child.pid!;
  try {
    await until(`both workers listening; output: ${herald.output().slice(-2000)}`, () => ((herald.output().match(/Herald listening/g) ?? []).length >= 2 ? true : undefined));
    assert.equal(childrenOf(primary).length, 2);
    const streams = Array.from({ length: 4 }, () => collect(hubUrl(herald.url, [['topic', 'urn:group']])));
    await Promise.all(streams.map((s) => s.opened));
    // What systemd (KillMode=control-group/mixed) and Ctrl-C in a terminal do: everyone at once.
    process.kill(-primary, 'SIGTERM');
    const code = await within(herald.exited, 15_000, 'exit after a group SIGTERM');
    for (const s of streams) s.close();
    const output = herald.output();
    assert.equal(code, 0, output.slice(-3000));
    assert.doesNotMatch(output, /second signal during shutdown/);
    assert.equal((output.match(/shut down cleanly/g) ?? []).length, 2, output.slice(-3000));
  } finally {
    try {
      process.kill(-primary, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

test('--workers 2 with Redis and no key: one shared key, so a session made on one worker is valid on every worker', async () => {
  const prefix = uniquePrefix('ops-key');
  prefixes.push(prefix);
  const herald = await spawnHerald(['--workers', '2', '--store', SHARED_REDIS, '--redis-prefix', prefix], {}, 20_000, { detached: true });
  const primary = herald.child.pid!;
  try {
    await until(`both workers listening; output: ${herald.output().slice(-2000)}`, () => ((herald.output().match(/Herald listening/g) ?? []).length >= 2 ? true : undefined));
    assert.match(herald.output(), new RegExp(`kept in Redis \\(${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}subscriber-key\\)`));
    const client = new ChatClient(herald.url);
    const session = await client.login('alice');
    const port = Number(new URL(herald.url).port);
    // One new connection per request: the kernel spreads them over both workers.
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const bytes = Buffer.from(`GET /api/session HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${client.cookie}\r\nConnection: close\r\n\r\n`);
      const outcome = await rawExchange(port, { bytes });
      assert.equal(outcome.status, 200);
      seen.push((JSON.parse(outcome.body) as { session: { userId: string } | null }).session?.userId ?? 'signed out');
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, () => session.userId));
  } finally {
    process.kill(-primary, 'SIGTERM');
    await within(herald.exited, 15_000, 'exit').catch(() => process.kill(-primary, 'SIGKILL'));
  }
});
