// `--workers N`: several processes on one port sharing Redis; the primary restarts
// a dead worker and stops them all on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hubUrl, PUBLISHER_KEY, publishOk } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('--workers 2 with Redis: every subscriber gets every update, a killed worker is replaced, SIGTERM stops all', async () => {
  const prefix = `herald-test-workers-${randomUUID()}:`;
  const herald = await spawnHerald(['--workers', '2', '--store', 'redis://127.0.0.1:6379/0', '--redis-prefix', prefix, '--publisher-jwt-key', PUBLISHER_KEY, '--no-chat', '--no-subscriptions']);
  const primary = herald.child.pid!;
  try {
    const workers = await until('two workers', () => {
      const pids = childrenOf(primary);
      return pids.length === 2 ? pids : undefined;
    });
    // Both workers listening (each logs once), so no connection meets one still starting.
    await until(`both workers listening; output: ${herald.output().slice(-2000)}`, () => ((herald.output().match(/Herald listening/g) ?? []).length >= 2 ? true : undefined));
    const streams = Array.from({ length: 6 }, () => collect(hubUrl(herald.url, [['topic', 'https://example.com/workers']])));
    await Promise.all(streams.map((s) => s.opened)).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; herald printed: ${herald.output().slice(-3000)}`);
    });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await publishOk(herald.url, { topic: 'https://example.com/workers', data: String(i) }));
    for (const stream of streams) assert.deepEqual((await stream.waitFor(5)).map((e) => e.id), ids);
    for (const stream of streams) stream.close();

    process.kill(workers[0]!, 'SIGKILL');
    const replaced = await until('a replacement worker', () => {
      const pids = childrenOf(primary);
      return pids.length === 2 && !pids.includes(workers[0]!) ? pids : undefined;
    });
    assert.equal(replaced.length, 2);
    // This process's HTTP client may still hold keep-alive sockets to the killed worker:
    // the first use of one fails ("other side closed") and the client drops it, as a
    // browser would before reconnecting. So the check gets a few tries, each complete.
    let delivered: string | undefined;
    const failures: string[] = [];
    for (let attempt = 0; attempt < 4 && delivered === undefined; attempt++) {
      const after = collect(hubUrl(herald.url, [['topic', 'https://example.com/workers']]));
      try {
        await after.opened;
        const id = await publishOk(herald.url, { topic: 'https://example.com/workers', data: `after-${attempt}` });
        assert.equal((await after.waitFor(1))[0]?.id, id);
        delivered = id;
      } catch (error) {
        failures.push((error as Error).message);
      } finally {
        after.close();
      }
    }
    assert.ok(delivered, `no delivery after the worker was replaced: ${failures.join(' | ')}; herald printed: ${herald.output().slice(-3000)}`);
  } finally {
    assert.equal(await herald.stop('SIGTERM'), 0);
  }
  assert.deepEqual(childrenOf(primary), []);
});

test('--workers above 1 without Redis is refused with a clear message', async () => {
  await assert.rejects(spawnHerald(['--workers', '2', '--store', 'memory']), /--workers 2 needs --store redis/);
});
