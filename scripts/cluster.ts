// `npm run cluster`: a local multi-process Herald. Starts Redis when none answers,
// N Herald processes sharing it, and nginx (deploy/nginx/herald.conf) in front;
// serves the chat on http://localhost:8080. Ctrl-C (or SIGTERM) stops every child.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ManagedChild } from './cluster/children.js';
import { startHeraldNode } from './cluster/herald-process.js';
import { nginxAvailable, startNginx } from './cluster/nginx-process.js';
import { CLUSTER_HELP, parseClusterOptions, type ClusterOptions } from './cluster/options.js';
import { redisAnswers, startRedisServer } from './cluster/redis-process.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** pino's JSON lines, shortened to "[name] level message" for a terminal. */
function relay(name: string): (line: string) => void {
  return (line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = entry.level !== undefined && entry.level >= 50 ? 'ERROR ' : entry.level !== undefined && entry.level >= 40 ? 'WARN ' : '';
      say(`[${name}] ${level}${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ''}`);
    } catch {
      if (line.trim() !== '') say(`[${name}] ${line}`);
    }
  };
}

/** The publisher key, kept in the state directory so sessions survive a restart of the cluster. */
function publisherKey(dir: string): string {
  if (process.env.HERALD_PUBLISHER_JWT_KEY) return process.env.HERALD_PUBLISHER_JWT_KEY;
  const file = join(dir, 'publisher-jwt.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function run(options: ClusterOptions): Promise<number> {
  if (!nginxAvailable()) throw new Error('nginx is not installed (Debian: apt-get install nginx); .ci/run installs it');
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const started: ManagedChild[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      say(`stopping the cluster (${why})`);
      // nginx first so no request reaches a process on its way out; Redis last.
      for (const child of [...started].reverse()) say(`${child.name} (pid ${child.child.pid}) stopped: ${await child.stop('SIGTERM', 5000)}`);
    })());

  // A signal during start-up is acted on once the step under way has finished
  // (each is bounded), so every child that did start is in `started` and is stopped.
  let signalled: string | null = null;
  let signalledAt = 0;
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== null) {
      // npm relays the terminal's Ctrl-C, which also reaches us directly: one keypress, two signals.
      if (Date.now() - signalledAt < 1000) return;
      say('second signal: killing every child now');
      for (const child of started) child.child.kill('SIGKILL');
      return;
    }
    signalled = signal;
    signalledAt = Date.now();
    requestStop(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  // `npm run` (exec'd, see package.json) passes SIGTERM on to this process; if npm itself
  // is killed outright this process is re-parented, which is the cue to stop too.
  const parent = process.ppid;
  const watchParent = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watchParent);
    onSignal('SIGHUP');
  }, 1000);
  watchParent.unref();
  // Last resort if this script dies of a bug: the detached children must not outlive it.
  process.on('exit', () => {
    for (const child of started) if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
  });

  try {
    if (await redisAnswers(options.store)) {
      say(`Redis answers at ${new URL(options.store).host}: using it`);
    } else {
      const url = new URL(options.store);
      if (!['127.0.0.1', 'localhost'].includes(url.hostname)) throw new Error(`Redis does not answer at ${url.host}, and only a local one can be started here`);
      const redis = await startRedisServer(Number(url.port || 6379));
      started.push(redis);
      say(`started redis-server (pid ${redis.child.pid}) on 127.0.0.1:${redis.port}, without persistence`);
    }
    if (signalled !== null) return stopAll(signalled).then(() => 0);
    const heraldArgs = ['--store', options.store, '--redis-prefix', options.redisPrefix, '--public-url', options.publicUrl, `--publisher-jwt-key=${publisherKey(dir)}`, ...options.heraldArgs];
    const starting = Array.from({ length: options.nodes }, async (_, i) => {
      const name = `herald-${i + 1}`;
      const node = await startHeraldNode({ name, port: options.nodePort + i, args: heraldArgs, onLine: relay(name) });
      started.push(node);
      say(`${name} (pid ${node.child.pid}) listens on ${node.url}`);
      void node.exited.then((code) => stopping === null && say(`WARNING ${name} exited (${code}); nginx sends its clients to the others`));
      return node;
    });
    // allSettled: a node that failed must not hide the others, which still need stopping.
    const outcomes = await Promise.allSettled(starting);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    if (signalled !== null) return stopAll(signalled).then(() => 0);
    const nginx = await startNginx({
      dir: join(dir, 'nginx'),
      listen: `${options.host}:${options.port}`,
      upstreams: Array.from({ length: options.nodes }, (_, i) => `127.0.0.1:${options.nodePort + i}`),
      subscriptionsPerAddress: options.subscriptionsPerAddress,
      publishRate: options.publishRate,
      publishBurst: options.publishBurst,
      onLine: relay('nginx'),
    });
    started.push(nginx);
    say(`nginx (pid ${nginx.child.pid}) runs ${nginx.configPath}`);
    say(`publisher JWT key (HS256): ${process.env.HERALD_PUBLISHER_JWT_KEY ? 'HERALD_PUBLISHER_JWT_KEY' : join(dir, 'publisher-jwt.key')}`);
    say(`cluster ready: ${options.publicUrl} (nginx on ${nginx.url}, Herald processes: ${options.nodes}). Ctrl-C stops it.`);
    const why = await Promise.race([nginx.exited.then((code) => `nginx exited (${code})`), stopRequested]);
    await stopAll(why);
    return why.startsWith('nginx exited') ? 1 : 0;
  } catch (error) {
    await stopAll('start-up failed');
    throw error;
  }
}

let options: ClusterOptions | null;
try {
  options = parseClusterOptions(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`cluster: ${(error as Error).message}\n${CLUSTER_HELP}\n`);
  process.exit(2);
}
if (options === null) {
  say(CLUSTER_HELP);
  process.exit(0);
}
run(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
