// Instructions per publish, counted (not timed): this shared box's timings move by
// ±10% with the other tenants, which hides a 2% change. Herald runs under valgrind's
// callgrind (memory store, no chat, no presence, one subscriber per topic); after a
// warm-up the counters are zeroed, exactly `count` form publishes are sent over 4
// keep-alive connections (each delivered to its topic's one subscriber), and the
// dump's total (user-space instructions of every thread, GC and JIT included; the
// kernel's side of the system calls is not) is divided by the publishes.
//   node --import tsx bench/probe/callgrind-publish.ts [--cli dist/cli.js] [--count 4000] [--warmup 6000] [--subscribers 200]
// --before REV (repeatable): the same, for earlier commits (built by bench/before.ts), one after the other.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { freePort, waitForPort } from '../../src/ports.js';
import { buildEarlier } from '../before.js';

const { values: args } = parseArgs({
  options: {
    cli: { type: 'string', default: 'dist/cli.js' },
    before: { type: 'string', multiple: true },
    count: { type: 'string', default: '4000' },
    warmup: { type: 'string', default: '6000' },
    subscribers: { type: 'string', default: '200' },
  },
});
const COUNT = Number(args.count);
const WARMUP = Number(args.warmup);
const SUBSCRIBERS = Number(args.subscribers);
const SECRET = 'callgrind-probe-secret-that-is-long-enough-0123456789';
const token = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
const topic = (i: number): string => `https://bench.herald.test/t/${i % SUBSCRIBERS}`;

async function until(check: () => boolean, what: string, ms = 600_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Calls `found` for every `pattern` in a stream of chunks, one split across two chunks included. */
function counter(pattern: string, found: () => void): (chunk: string) => void {
  let tail = '';
  return (chunk) => {
    const text = tail + chunk;
    for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + pattern.length)) found();
    tail = text.slice(Math.max(0, text.length - pattern.length + 1));
  };
}

async function measure(cli: string): Promise<number> {
  const port = await freePort();
  const out = join(mkdtempSync(join(tmpdir(), 'herald-callgrind-')), 'callgrind.out');
  const server = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, cli, 'serve', '--store', 'memory', '--no-chat', '--no-subscriptions', '--port', String(port), '--publisher-jwt-key', SECRET, '--log-level', 'warn', '--heartbeat', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let serverErr = '';
  server.stderr.on('data', (d: Buffer) => (serverErr += d.toString()));
  const sockets: Socket[] = [];
  try {
    await waitForPort('127.0.0.1', port, 300_000).catch((error: unknown) => {
      throw new Error(`the server did not listen: ${String(error)} ${serverErr.slice(-300)}`);
    });
    let received = 0;
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const s = connect(port, '127.0.0.1', () => s.write(`GET /.well-known/mercure?topic=${encodeURIComponent(topic(i))} HTTP/1.1\r\nHost: x\r\n\r\n`));
      s.setEncoding('latin1');
      // Counts events: each update's SSE text has exactly one "data: ".
      s.on('data', counter('data: ', () => received++));
      sockets.push(s);
    }
    let acked = 0;
    let seq = 0;
    let budget = 0;
    const publishers: Socket[] = [];
    const send = (s: Socket): void => {
      if (budget <= 0) return;
      budget--;
      const body = `topic=${encodeURIComponent(topic(seq++))}&data=1+2+3`;
      s.write(`POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\nauthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    };
    for (let i = 0; i < 4; i++) {
      const s = connect(port, '127.0.0.1');
      s.setEncoding('latin1');
      // One request in flight per connection: the next is sent when a reply's status line arrives.
      s.on(
        'data',
        counter('HTTP/1.1 200', () => {
          acked++;
          send(s);
        }),
      );
      publishers.push(s);
      sockets.push(s);
    }
    // Subscribed before the first publish: a probe publish to every topic must arrive.
    const run = async (n: number): Promise<void> => {
      const target = acked + n;
      const deliveries = received + n;
      budget = n;
      for (const s of publishers) send(s);
      await until(() => acked >= target && received >= deliveries, `${n} publishes (${acked}/${target} acked, ${received}/${deliveries} delivered)`);
    };
    await until(() => sockets.every((s) => !s.connecting), 'connections');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await run(WARMUP);
    spawnSync('callgrind_control', ['--zero', String(server.pid)]);
    await run(COUNT);
    spawnSync('callgrind_control', ['--dump', String(server.pid)]);
    await until(() => spawnSync('sh', ['-c', `ls ${out}.* 2>/dev/null`]).stdout.length > 0, 'the dump', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const files = spawnSync('sh', ['-c', `ls ${out}.*`], { encoding: 'utf8' }).stdout.trim().split('\n');
    let total = 0;
    for (const file of files) {
      const summary = /^summary: (\d+)/m.exec(readFileSync(file, 'utf8'));
      if (summary !== null) total += Number(summary[1]);
    }
    return total / COUNT;
  } finally {
    for (const s of sockets) s.destroy();
    server.kill('SIGKILL');
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

const results: Array<[string, number]> = [[args.cli, await measure(args.cli)]];
for (const rev of args.before ?? []) {
  const earlier = buildEarlier(rev);
  if (typeof earlier === 'string') throw new Error(earlier);
  try {
    results.push([earlier.name, await measure(earlier.cli)]);
  } finally {
    earlier.remove();
  }
}
for (const [name, perPublish] of results) console.log(`${name}: ${(perPublish / 1000).toFixed(1)}k instructions per publish (${COUNT} publishes after ${WARMUP})`);
