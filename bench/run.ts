// `npm run bench`: Herald's fan-out against nginx+nchan and the tutorial Node SSE
// server in the same run, same machine, same load generator. Prints a table and the
// headline ratios, writes bench/results/<timestamp>.json. `--smoke` is the tiny CI
// version (bounded, under 2 minutes), failing on any lost or duplicated delivery,
// dropped subscriber or error, never on a speed threshold. See docs/performance.md.
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus as cpuList } from 'node:os';
import { fileURLToPath } from 'node:url';
import { USAGE, parseOptions, type BenchOptions } from './options.js';
import { checkGoals, formatGoals } from './goals.js';
import { HAS_TASKSET, installCleanup, killEverything } from './proc/children.js';
import { formatBeforeAfter, formatRatios, formatTable, headlineRatios, problems, writeJson, type Row } from './report.js';
import { buildEarlier, type EarlierBuild } from './before.js';
import { runMany, runTarget, type BenchContext, type Variant } from './scenarios.js';
import { heraldTarget } from './targets/herald.js';
import { nchanTarget } from './targets/nchan.js';
import type { Target } from './targets/target.js';
import { tutorialTarget } from './targets/tutorial.js';
import { runRedisBench } from './redis/run-redis.js';
import { formatRedisReport } from './redis/report.js';

installCleanup();

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

const started = Date.now();
// A hard bound on the whole run, whatever hangs: kill everything and fail.
const budgetMs = options.smoke ? 115_000 : 15 * 60_000;
setTimeout(() => {
  process.stderr.write(`bench: over the ${budgetMs / 1000} s budget, giving up\n`);
  killEverything();
  process.exit(3);
}, budgetMs).unref();

function pinning(): { serverCpus?: string; loadCpus?: string; description: string } {
  if (!options.pin) return { description: 'not pinned (--no-pin)' };
  if (!HAS_TASKSET) return { description: 'not pinned (taskset not found; install util-linux)' };
  if (availableParallelism() < 2) return { description: 'not pinned (only one CPU)' };
  // The orchestrator itself joins the load CPU so that CPU 0 is the server's alone.
  spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  return { serverCpus: '0', loadCpus: '1', description: 'server on CPU 0; load generators and orchestrator on CPU 1 (taskset -c)' };
}

function gitCommit(): string {
  const root = fileURLToPath(new URL('../', import.meta.url));
  return spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
}

async function main(): Promise<number> {
  const pin = pinning();
  const { sizes } = options;
  const ctx: BenchContext = {
    options,
    serverCpus: pin.serverCpus,
    loadCpus: pin.loadCpus,
    lifetimeSeconds: Math.ceil(budgetMs / 1000) + 30,
  };
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`bench${options.smoke ? ' --smoke' : ''}: ${sizes.subscribers} subscribers, ${sizes.topics} topics, ${sizes.seconds} s per scenario`);
  log(`pinning: ${pin.description}`);
  if (options.redis) return redisMain(ctx, pin.description, log);

  const wanted = new Set(options.targets);
  const skipped: string[] = [];
  let earlier: EarlierBuild | undefined;
  if (options.before !== undefined && wanted.has('herald')) {
    log(`building Herald at ${options.before} (--before)`);
    const built = buildEarlier(options.before);
    if (typeof built === 'string') skipped.push(built);
    else earlier = built;
  }
  const candidates: Target[] = [
    ...(wanted.has('herald') ? [heraldTarget({ build: options.build, nodeArgs: options.heraldNodeArgs })] : []),
    ...(earlier === undefined ? [] : [heraldTarget({ build: false, nodeArgs: options.heraldNodeArgs, other: { cli: earlier.cli, name: earlier.name } })]),
    ...(wanted.has('nchan') ? [nchanTarget] : []),
    ...(wanted.has('tutorial') ? [tutorialTarget] : []),
  ];
  const rows: Row[] = [];
  for (const target of candidates) {
    const reason = await target.unavailable();
    if (reason) {
      skipped.push(`${target.name}: skipped (${reason})`);
      log(`${target.name}: skipped (${reason})`);
      continue;
    }
    log(`${target.name}: running`);
    rows.push(...(await runTarget(target, ctx)));
  }
  // Herald variants, each on its own server: idle memory with presence off (as
  // Mercure's default), `--workers`, and 19k subscribers on one process.
  const variants: [number, Target, (target: Target) => Promise<Row[]>][] = [];
  const variant = (kind: Variant) => (target: Target) => runTarget(target, ctx, kind);
  if (options.scenarios.has(5)) variants.push([5, heraldTarget({ build: false, args: ['--no-chat', '--no-subscriptions'], nodeArgs: options.heraldNodeArgs }), variant('idle')]);
  if (options.scenarios.has(6)) variants.push([6, heraldTarget({ build: false, workers: sizes.heraldWorkers, nodeArgs: options.heraldNodeArgs }), variant('workers')]);
  if (options.scenarios.has(7)) variants.push([7, heraldTarget({ build: false, nodeArgs: options.heraldNodeArgs }), (target) => runMany(target, ctx)]);
  for (const [scenario, target, run] of wanted.has('herald') ? variants : []) {
    const reason = scenario === 7 && sizes.manySubscribers === 0 ? 'full run only' : await target.unavailable();
    if (reason) {
      skipped.push(`scenario ${scenario} (${target.name}): skipped (${reason})`);
      log(`scenario ${scenario} (${target.name}): skipped (${reason})`);
      continue;
    }
    log(`${target.name}: running scenario ${scenario}`);
    rows.push(...(await run(target)));
  }

  earlier?.remove();
  const ratios = headlineRatios(rows);
  const beforeAfter = formatBeforeAfter(rows);
  const goals = checkGoals(rows);
  const elapsed = (Date.now() - started) / 1000;
  const out = options.out ?? fileURLToPath(new URL(`./results/${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url));
  process.stdout.write(`\n${formatTable(rows)}\n\n${formatRatios(ratios)}\n\n${beforeAfter === undefined ? '' : `${beforeAfter}\n\n`}${formatGoals(goals)}\n`);
  for (const s of skipped) process.stdout.write(`${s}\n`);
  process.stdout.write(`pinning: ${pin.description}; ${elapsed.toFixed(0)} s in all; JSON: ${out}\n`);
  writeJson(out, {
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: elapsed,
    smoke: options.smoke,
    commit: gitCommit(),
    // Not availableParallelism(): that honours the affinity this process pinned itself to.
    machine: { cpus: cpuList().length, model: cpuList()[0]?.model, node: process.version },
    pinning: pin.description,
    sizes,
    rows,
    ratios,
    goals,
    skipped,
  });
  const found = problems(rows);
  for (const p of found) process.stderr.write(`problem: ${p}\n`);
  return options.smoke && found.length > 0 ? 1 : 0;
}

/** `--redis`: the Redis scenarios only (bench/redis/), their own table and JSON. */
async function redisMain(ctx: BenchContext, pinning: string, log: (line: string) => void): Promise<number> {
  const reason = await heraldTarget({ build: options.build }).unavailable();
  if (reason) throw new Error(`herald: ${reason}`);
  let earlier: EarlierBuild | undefined;
  if (options.before !== undefined) {
    log(`building Herald at ${options.before} (--before)`);
    const built = buildEarlier(options.before);
    if (typeof built === 'string') throw new Error(built);
    earlier = built;
  }
  const rows = await runRedisBench({
    serverCpus: ctx.serverCpus,
    builds: [{ name: 'herald' }, ...(earlier === undefined ? [] : [{ name: earlier.name, cli: earlier.cli }])],
    scenarios: options.redisScenarios,
    lifetimeSeconds: ctx.lifetimeSeconds,
    log,
    sizes: { publishes: 20_000, kept: options.redisKept, latencySeconds: 8, latencyRate: 500 },
  }).finally(() => earlier?.remove());
  const elapsed = (Date.now() - started) / 1000;
  const out = options.out ?? fileURLToPath(new URL(`./results/redis-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url));
  process.stdout.write(`\n${formatRedisReport(rows)}\npinning: ${pinning}; ${elapsed.toFixed(0)} s in all; JSON: ${out}\n`);
  writeJson(out, { startedAt: new Date(started).toISOString(), elapsedSeconds: elapsed, commit: gitCommit(), machine: { cpus: cpuList().length, model: cpuList()[0]?.model, node: process.version }, pinning, rows });
  return 0;
}

main().then(
  (code) => {
    killEverything();
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${String((error as Error)?.stack ?? error)}\n`);
    killEverything();
    process.exit(1);
  },
);
