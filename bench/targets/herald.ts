// Herald as a bench target: `node dist/cli.js serve` with the memory store and an
// HS256 publisher key, or with `--workers N` and a private Redis store. Built first
// (tsc) unless told not to; skipped with a reason while the CLI (or the workers
// flag) does not exist.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { spawnServer } from '../proc/children.js';
import { processTree } from '../proc/proc-stats.js';
import { HOST, freePort, topicIris, waitHealthy, type RunningTarget, type StartOptions, type Target } from './target.js';
import { hasRedisServer, startRedis } from './redis-server.js';
import { mercurePublishSpec, mercureSubscribeSpec } from './tutorial.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_SOURCE = `${ROOT}src/cli.ts`;
const CLI = `${ROOT}dist/cli.js`;

/** Updates per batch request in scenario 4 (Herald accepts up to 10,000). */
const BATCH_SIZE = 100;

let buildResult: string | null | undefined;

/** True when some source under src/ is newer than dist/cli.js (or dist is missing). */
function distIsStale(): boolean {
  if (!existsSync(CLI)) return true;
  const built = statSync(CLI).mtimeMs;
  const sources = readdirSync(`${ROOT}src`, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  return sources.some((f) => statSync(`${ROOT}src/${f}`).mtimeMs > built);
}

/** Compiles src/ to dist/ once per bench run when stale; null on success, else why it failed. */
function build(): string | null {
  if (buildResult !== undefined) return buildResult;
  if (!distIsStale()) return (buildResult = null);
  const tsc = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  // tsc still emits on type errors; only a missing dist/cli.js makes Herald unusable.
  buildResult = existsSync(CLI) ? null : `build failed: ${(tsc.stdout + tsc.stderr).slice(0, 500)}`;
  return buildResult;
}

function supportsFlag(flag: string): boolean {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8', timeout: 20_000 });
  return `${help.stdout}${help.stderr}`.includes(flag);
}

export interface HeraldTargetOptions {
  /** Run `tsc` before the first start when dist/ is older than src/ (it would measure old code). */
  readonly build: boolean;
  /** `--workers N` (scenario 6); undefined: a single process. */
  readonly workers?: number;
  /** More `serve` flags (e.g. `--no-chat --no-subscriptions`); they name the target too. */
  readonly args?: readonly string[];
  /**
   * Flags for node itself (e.g. `--cpu-prof --cpu-prof-dir=DIR`, `--trace-gc`); when
   * set, Herald's whole output is kept in bench/results/herald-<port>.log.
   */
  readonly nodeArgs?: readonly string[];
  /** Another build of Herald (an earlier commit, see before.ts): its dist/cli.js, and the name its rows get. */
  readonly other?: { readonly cli: string; readonly name: string };
}

const ALLOC_PROBE = fileURLToPath(new URL('../probe/alloc-probe.mjs', import.meta.url));
let probeFiles = 0;

/** The JS heap bytes the server allocates between begin() and end() (bench/probe/alloc-probe.mjs). */
function allocWindow(rootPid: number, file: string): NonNullable<RunningTarget['alloc']> {
  const signal = (): void => {
    for (const pid of processTree(rootPid)) {
      if (readComm(pid) === 'node') process.kill(pid, 'SIGUSR2');
    }
  };
  let lines = 0;
  return {
    begin: signal,
    async end() {
      signal();
      for (let i = 0; i < 100; i++) {
        const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
        const all = text === '' ? [] : text.split('\n');
        if (all.length > lines) {
          const fresh = all.slice(lines).map((l) => JSON.parse(l) as { allocated: number });
          lines = all.length;
          return fresh.reduce((t, r) => t + r.allocated, 0);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return undefined;
    },
  };
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function heraldTarget(options: HeraldTargetOptions): Target {
  const extraArgs = [...(options.workers === undefined ? [] : ['--workers', String(options.workers)]), ...(options.args ?? [])];
  const cli = options.other?.cli ?? CLI;
  return {
    name: [options.other?.name ?? 'herald', ...extraArgs].join(' '),
    async unavailable() {
      if (options.other !== undefined) return existsSync(cli) ? null : `${cli} was not built`;
      if (!existsSync(CLI_SOURCE)) return 'src/cli.ts does not exist yet';
      // From here on Herald exists: a failing build is an error in the report, not a skip.
      if (options.build) build();
      if (options.workers !== undefined) {
        if (existsSync(CLI) && !supportsFlag('--workers')) return '`serve --workers` does not exist yet';
        if (!hasRedisServer()) return 'redis-server not found (workers share a Redis store)';
      }
      return null;
    },
    async start(start: StartOptions): Promise<RunningTarget> {
      if (!existsSync(cli)) throw new Error(buildResult ?? `${cli} missing (run npm run build)`);
      const port = await freePort();
      const secret = randomBytes(32).toString('hex');
      const token = await new SignJWT({ mercure: { publish: ['*'] } })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
      // Workers need a shared store: a private Redis, pinned and measured with Herald.
      const redis = options.workers === undefined ? undefined : await startRedis(start);
      const args = [
        cli, 'serve',
        '--port', String(port),
        '--host', HOST,
        '--store', redis?.url ?? 'memory',
        '--publisher-jwt-key', secret,
        '--log-level', 'warn',
        ...extraArgs,
      ];
      const nodeArgs = options.nodeArgs ?? [];
      // Garbage per publish: single processes only (workers would need one window each).
      const probeFile = options.workers === undefined ? join(tmpdir(), `herald-alloc-${process.pid}-${++probeFiles}.jsonl`) : undefined;
      const proc = spawnServer(process.execPath, [...(probeFile === undefined ? [] : [`--import=${ALLOC_PROBE}`]), ...nodeArgs, ...args], {
        cpus: start.cpus,
        lifetimeSeconds: start.lifetimeSeconds,
        cwd: ROOT,
        env: probeFile === undefined ? undefined : { ...process.env, HERALD_ALLOC_PROBE: probeFile },
        outputFile: nodeArgs.length > 0 ? `${ROOT}bench/results/herald-${port}.log` : undefined,
      });
      const stop = async (): Promise<void> => {
        await proc.stop();
        await redis?.process.stop();
        if (probeFile !== undefined) rmSync(probeFile, { force: true });
      };
      try {
        await waitHealthy(proc, port, '/healthz', 30_000);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        host: HOST,
        port,
        process: proc,
        roots: redis ? [proc.pid, redis.process.pid] : [proc.pid],
        alloc: probeFile === undefined ? undefined : allocWindow(proc.pid, probeFile),
        subscribeSpec: (topicCount) => mercureSubscribeSpec(port, topicCount),
        publishSpec: (topicCount) => ({
          ...mercurePublishSpec(topicCount, { authorization: `Bearer ${token}` }),
          batch: { path: '/.well-known/mercure', maxItems: BATCH_SIZE, contentType: 'application/json', topics: topicIris(topicCount) },
        }),
        stop,
      };
    },
  };
}
