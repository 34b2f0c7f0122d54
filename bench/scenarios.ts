// The scenarios, grouped by the server state they need: one fresh server per
// group, so history and memory from one group never colour the next.
//   A (1 topic, N subscribers): 5 idle RSS, then 2 fixed-rate latency, then 1 broadcast
//   B (N subscribers over T topics): 3 fixed-rate latency across topics
//   C (no subscribers): 4 publish throughput over T topics (single, then batch if any)
//   E (one subscriber on each of T topics): 8 publish throughput with one delivery each
//   6 reruns A's 5 and 1 against `herald --workers N`; 5 alone for a Herald variant
//   7 (full run, Herald): 19k subscribers on one process, a few events to each
import { sleep } from './load-generator.js';
import { emptyRow, measured, withLoad, withServer, type BenchContext, type Phase } from './measure.js';
import { cpuTimeUs, openFiles, openFilesLimit, processTree, sampleTrees } from './proc/proc-stats.js';
import type { Row } from './report.js';
import type { Target } from './targets/target.js';

export type { BenchContext } from './measure.js';

/** Group A: scenarios 5 (idle RSS), 2 (fixed-rate latency) and 1 (broadcast), on one topic. */
interface Wanted {
  readonly s5: boolean;
  readonly s2: boolean;
  readonly s1: boolean;
  /** Label the rows as scenario 6 (`--workers`). */
  readonly as6?: boolean;
  /** Scenario 5's label, when a variant needs telling apart in the headline. */
  readonly idleLabel?: string;
}

async function broadcastGroup(target: Target, ctx: BenchContext, want: Wanted): Promise<Row[]> {
  const { sizes } = ctx.options;
  const rows: Row[] = [];
  await withServer(target, ctx, async (server) => {
    await sleep(sizes.settleMs);
    const before = sampleTrees(server.roots).rssKb;
    await withLoad(server, ctx, { subscribers: sizes.subscribers, topics: 1 }, async (load, connectMs) => {
      const load0 = cpuTimeUs(load.pids());
      const settle0 = performance.now();
      await sleep(sizes.settleMs);
      if (want.s5) {
        const idle = sampleTrees(server.roots).rssKb;
        const row = emptyRow(want.as6 ? 6 : 5, want.as6 ? 'idle RSS, workers' : (want.idleLabel ?? 'idle RSS / connection'), target.name);
        // The load generator's CPU while the memory settles: idle, or the reading is not.
        row.loadCpuPct = ((cpuTimeUs(load.pids()) - load0) / ((performance.now() - settle0) * 1000)) * 100;
        row.rssKbPerConn = (idle - before) / sizes.subscribers;
        row.connections = sizes.subscribers;
        row.notes.push(`RSS ${(before / 1024).toFixed(0)} -> ${(idle / 1024).toFixed(0)} MB; ${sizes.subscribers} connected in ${(connectMs / 1000).toFixed(1)} s`);
        rows.push(row);
      }
      if (want.s2) {
        const label = `latency @${sizes.latencyRate * sizes.subscribers}/s`;
        rows.push(await measured(load, server, ctx, target.name, { scenario: 2, label, mode: { kind: 'rate', perSecond: sizes.latencyRate }, topicCount: 1, maxInFlight: 4, warmup: true }));
      }
      if (want.s1) {
        const phase: Phase = { scenario: want.as6 ? 6 : 1, label: want.as6 ? 'broadcast, workers' : 'broadcast', mode: { kind: 'credit' }, topicCount: 1, maxInFlight: 4, window: sizes.broadcastWindow };
        rows.push(await measured(load, server, ctx, target.name, phase));
      }
    });
  });
  return rows;
}

/** Group B: scenario 3, subscribers spread over the topics, fixed total rate. */
async function topicsGroup(target: Target, ctx: BenchContext): Promise<Row[]> {
  const { sizes } = ctx.options;
  return withServer(target, ctx, (server) =>
    withLoad(server, ctx, { subscribers: sizes.subscribers, topics: sizes.topics }, async (load) => [
      await measured(load, server, ctx, target.name, {
        scenario: 3,
        label: `${sizes.topics} topics @${sizes.topicsRate} msg/s`,
        mode: { kind: 'rate', perSecond: sizes.topicsRate },
        topicCount: sizes.topics,
        maxInFlight: sizes.publishConcurrency,
        warmup: true,
      }),
    ]),
  );
}

/** Group C: scenario 4, publishing only, as fast as the in-flight bound allows. */
async function publishGroup(target: Target, ctx: BenchContext): Promise<Row[]> {
  const { sizes } = ctx.options;
  return withServer(target, ctx, (server) =>
    withLoad(server, ctx, { subscribers: 0, topics: sizes.topics }, async (load) => {
      const base = { mode: { kind: 'max' } as const, topicCount: sizes.topics, maxInFlight: sizes.publishConcurrency, perPublish: true };
      const rows = [await measured(load, server, ctx, target.name, { ...base, scenario: 4, label: 'publish, no subscribers' })];
      if (server.publishSpec(sizes.topics).batch) {
        rows.push(await measured(load, server, ctx, target.name, { ...base, scenario: 4, label: 'publish, batch', batch: true }));
      }
      return rows;
    }),
  );
}

/**
 * Group E: scenario 8, the chat's shape (many rooms, each message its own HTTP
 * publish): one subscriber on each of the topics, publishing as fast as the in-flight
 * bound allows; server CPU per publish includes its one delivery.
 */
async function publishDeliverGroup(target: Target, ctx: BenchContext): Promise<Row[]> {
  const { sizes } = ctx.options;
  return withServer(target, ctx, (server) =>
    withLoad(server, ctx, { subscribers: sizes.topics, topics: sizes.topics }, async (load) => [
      await measured(load, server, ctx, target.name, {
        scenario: 8,
        label: `publish, 1 sub/topic`,
        mode: { kind: 'max' },
        topicCount: sizes.topics,
        maxInFlight: sizes.publishConcurrency,
        perPublish: true,
        warmup: true,
      }),
    ]),
  sizes.topics);
}

/**
 * Group D: scenario 7, `manySubscribers` connections to ONE server process on one
 * topic (beyond what one process of the load generator could hold), idle RSS per
 * connection, then a few events that every connection must receive.
 */
async function manyGroup(target: Target, ctx: BenchContext): Promise<Row[]> {
  const { sizes } = ctx.options;
  const n = sizes.manySubscribers;
  const label = `${(n / 1000).toFixed(0)}k subscribers, 1 process`;
  return withServer(
    target,
    ctx,
    async (server) => {
      // Each connection is a file descriptor in the server: say so before connecting.
      const limits = processTree(server.process.pid).map(openFilesLimit).filter((l) => l > 0);
      const serverLimit = Math.min(...limits);
      if (serverLimit < n + 64) throw new Error(`the server's open-files limit is ${serverLimit}, too low for ${n} connections`);
      await sleep(sizes.settleMs);
      const before = sampleTrees(server.roots).rssKb;
      return withLoad(server, ctx, { subscribers: n, topics: 1 }, async (load, connectMs) => {
        await sleep(sizes.settleMs);
        const idle = sampleTrees(server.roots).rssKb;
        const descriptors = Math.max(...processTree(server.process.pid).map(openFiles));
        const row = await measured(load, server, ctx, target.name, {
          scenario: 7,
          label,
          mode: { kind: 'rate', perSecond: sizes.manyRate },
          topicCount: 1,
          maxInFlight: 4,
          durationMs: sizes.manySeconds * 1000,
        });
        row.rssKbPerConn = (idle - before) / n;
        row.connections = n;
        const events = row.delivered === undefined ? 0 : Math.round(row.delivered / n);
        row.notes.push(
          `${n} connected in ${(connectMs / 1000).toFixed(1)} s over ${load.processCount} load processes; ` +
            `RSS ${(before / 1024).toFixed(0)} -> ${(idle / 1024).toFixed(0)} MB idle; ${events} events each; ` +
            `server: ${descriptors} open files (limit ${serverLimit})`,
        );
        return [row];
      });
    },
    n,
  );
}

export type Variant = 'all' | 'workers' | 'idle';

/**
 * Runs the scenarios that apply to one target; a failing group becomes a row with an
 * error. `workers`: scenario 6 (5 and 1 on `--workers`); `idle`: scenario 5 only.
 */
export async function runTarget(target: Target, ctx: BenchContext, variant: Variant = 'all'): Promise<Row[]> {
  const s = ctx.options.scenarios;
  const groups: [string, () => Promise<Row[]>][] = [];
  if (variant === 'workers') {
    groups.push(['6', () => broadcastGroup(target, ctx, { s5: true, s2: false, s1: true, as6: true })]);
  } else if (variant === 'idle') {
    groups.push(['5', () => broadcastGroup(target, ctx, { s5: true, s2: false, s1: false, idleLabel: 'idle RSS, presence off' })]);
  } else {
    if (s.has(5) || s.has(2) || s.has(1)) groups.push(['5/2/1', () => broadcastGroup(target, ctx, { s5: s.has(5), s2: s.has(2), s1: s.has(1) })]);
    if (s.has(3)) groups.push(['3', () => topicsGroup(target, ctx)]);
    if (s.has(4)) groups.push(['4', () => publishGroup(target, ctx)]);
    if (s.has(8)) groups.push(['8', () => publishDeliverGroup(target, ctx)]);
  }
  const rows: Row[] = [];
  for (const [name, run] of groups) rows.push(...(await runGroup(target, name, run)));
  return rows;
}

/** Scenario 7 against one target (Herald's single process). */
export function runMany(target: Target, ctx: BenchContext): Promise<Row[]> {
  return runGroup(target, '7', () => manyGroup(target, ctx));
}

async function runGroup(target: Target, name: string, run: () => Promise<Row[]>): Promise<Row[]> {
  const started = Date.now();
  try {
    return await run();
  } catch (error) {
    const row = emptyRow(Number(name.split('/')[0]), `scenario ${name}`, target.name);
    // One line for the table, ending with the server's last words.
    const lines = String((error as Error).message).split('\n').map((l) => l.trim()).filter(Boolean);
    row.error = [...new Set([lines[0], ...lines.slice(-2)])].join(' | ').slice(0, 400);
    return [row];
  } finally {
    process.stderr.write(`  ${target.name}: scenario ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
