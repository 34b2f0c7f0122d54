// Issue 14 item 3: sockets that never complete a request are reaped on time, and
// running out of file descriptors never kills the process. Real CLI child processes,
// real sockets on loopback.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { spawnHerald } from './support/process.js';

interface Attack {
  readonly sockets: net.Socket[];
  /** Resolves with how long after the start the last socket closed. */
  readonly allClosed: Promise<number>;
  stop(): void;
}

/**
 * `idle` sockets that never send a byte, `slow` that send a header line every 300 ms,
 * opened in waves of 200: with all at once the listen backlog (511) overflows, and a
 * connection the kernel completed but the server never accepted is one no server can
 * reap (the client sees it open until SYN-ACK retries give up, minutes later).
 */
async function attack(url: string, idle: number, slow: number): Promise<Attack> {
  const { port } = new URL(url);
  const started = Date.now();
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let open = idle + slow;
  let resolveAll: (ms: number) => void = () => {};
  const allClosed = new Promise<number>((resolve) => (resolveAll = resolve));
  for (let i = 0; i < idle + slow; i++) {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    // Read, so the server's FIN is seen ('end') and the socket closes.
    socket.resume();
    socket.on('close', () => {
      if (--open === 0) resolveAll(Date.now() - started);
    });
    if (i < slow) {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const timer = setInterval(() => socket.writable && socket.write(`X-Slow-${i}: 1\r\n`), 300);
      timers.push(timer);
    }
    sockets.push(socket);
    if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 100)); // pacing, not synchronisation
  }
  return {
    sockets,
    allClosed,
    stop: () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function healthy(url: string, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const started = Date.now();
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return Date.now() - started;
    } catch {
      // refused or reset while the attack holds the descriptors: try again
    }
    if (Date.now() > until) throw new Error(`/healthz did not answer 200 within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('2000 silent and 50 slowloris sockets are all closed by the head deadline while real clients are served', async () => {
  const herald = await spawnHerald(['--store', 'memory', '--header-timeout', '1']);
  const hostile = await attack(herald.url, 2000, 50);
  try {
    const healthMs = await healthy(herald.url, 5000);
    const reapedMs = await Promise.race([
      hostile.allClosed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('sockets still open 20 s after the 1 s head deadline')), 20_000)),
    ]);
    console.log(`hostile-connections: 2050 sockets reaped ${reapedMs} ms after opening (deadline 1 s); /healthz during the attack ${healthMs} ms`);
    assert.ok(reapedMs >= 900, `reaped before the deadline: ${reapedMs} ms`);
    assert.equal(herald.child.exitCode, null, 'still running');
    assert.ok((await healthy(herald.url, 2000)) < 2000);
  } finally {
    hostile.stop();
    await herald.stop();
  }
});

const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));

test('at the file-descriptor limit the process survives (status sampler on) and serves again once sockets are freed', { skip: prlimit === undefined && !process.env.CI ? 'prlimit is not installed' : false }, async () => {
  assert.ok(prlimit !== undefined, 'prlimit (util-linux) is needed in CI');
  const herald = await spawnHerald(['--store', 'memory', '--header-timeout', '30', '--status-page'], {}, 30_000, { wrapper: [prlimit, '--nofile=256:256', '--'] });
  // More sockets than descriptors: the hub runs out while they are held.
  const hostile = await attack(herald.url, 400, 0);
  try {
    const status = await fetch(`${herald.url}/status/stream`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    void status?.body?.cancel();
    // Two status-sampler periods and more at the limit.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(herald.child.exitCode, null, `died at the fd limit: ${herald.output().slice(-2000)}`);
    hostile.stop();
    const recoveredMs = await healthy(herald.url, 15_000);
    console.log(`hostile-connections: alive at the fd limit (256) under 400 held sockets; /healthz 200 again ${recoveredMs} ms into recovery`);
    assert.equal(herald.child.exitCode, null);
  } finally {
    hostile.stop();
    await herald.stop();
  }
});
