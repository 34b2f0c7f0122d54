// The six scenarios, grouped by the server state they need: one fresh server per
// group, so history and memory from one group never colour the next.
//   A (1 topic, N subscribers): 5 idle RSS, then 2 fixed-rate latency, then 1 broadcast
//   B (N subscribers over T topics): 3 fixed-rate latency across topics
//   C (no subscribers): 4 publish throughput over T topics (single, then batch if any)
//   6 reruns A's 5 and 1 against `herald --workers N`.
import { LoadGenerator, sleep, type Measurement } from './load-generator.js';
import type { PublishMode } from './loadgen/protocol.js';
import type { BenchOptions } from './options.js';
import { cpuBusyUs, cpuTimeUs, sampleTrees } from './proc/proc-stats.js';
import type { Row } from './report.js';
import type { RunningTarget, Target } from './targets/target.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly serverCpus?: string;
  readonly loadCpus?: string;
  readonly lifetimeSeconds: number;
}

let lastTag = 0;

interface Phase {
  readonly scenario: number;
  readonly label: string;
  readonly mode: PublishMode;
  readonly topicCount: number;
  readonly maxInFlight: number;
  readonly batch?: boolean;
  readonly window?: number;
  /** Report server CPU per publish instead of per delivery (no subscribers). */
  readonly perPublish?: boolean;
}

function emptyRow(scenario: number, label: string, target: string): Row {
  return { scenario, label, target, lost: 0, duplicates: 0, disconnects: 0, publishErrors: 0, notes: [] };
}

async function withServer<T>(target: Target, ctx: BenchContext, fn: (server: RunningTarget) => Promise<T>): Promise<T> {
  const server = await target.start({
    cpus: ctx.serverCpus,
    lifetimeSeconds: ctx.lifetimeSeconds,
    maxConnections: ctx.options.sizes.subscribers,
  });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function withLoad<T>(
  server: RunningTarget,
  ctx: BenchContext,
  shape: { subscribers: number; topics: number },
  fn: (load: LoadGenerator, connectMs: number) => Promise<T>,
): Promise<T> {
  const load = await LoadGenerator.start(
    {
      cpus: ctx.loadCpus,
      subscribers: shape.subscribers,
      topics: shape.topics,
      publisherSockets: ctx.options.sizes.publishConcurrency,
      lifetimeMs: ctx.lifetimeSeconds * 1000,
    },
    server.publishSpec(shape.topics),
    server,
  );
  try {
    const connectMs = shape.subscribers > 0 ? await load.connect(server.subscribeSpec(shape.topics), ctx.options.smoke ? 20_000 : 90_000) : 0;
    return await fn(load, connectMs);
  } finally {
    await load.close();
  }
}

async function measured(load: LoadGenerator, server: RunningTarget, ctx: BenchContext, targetName: string, phase: Phase): Promise<Row> {
  const tag = ++lastTag;
  await load.barrier(tag, 20_000);
  const cpu0 = sampleTrees(server.roots).cpuUs;
  const load0 = cpuTimeUs(load.pids());
  const serverCpuIndex = ctx.serverCpus === undefined ? undefined : Number(ctx.serverCpus);
  const busy0 = serverCpuIndex === undefined ? NaN : cpuBusyUs(serverCpuIndex);
  const wall0 = performance.now();
  const m: Measurement = await load.measure(
    {
      tag,
      mode: phase.mode,
      durationMs: ctx.options.sizes.seconds * 1000,
      maxInFlight: phase.maxInFlight,
      topicCount: phase.topicCount,
      batch: phase.batch ?? false,
    },
    ctx.options.smoke ? { quietMs: 2000, drainMs: 10_000 } : { quietMs: 3000, drainMs: 30_000 },
    phase.window,
  );
  const wallUs = (performance.now() - wall0) * 1000;
  const serverCpu = sampleTrees(server.roots).cpuUs - cpu0;
  const loadCpuPct = ((cpuTimeUs(load.pids()) - load0) / wallUs) * 100;
  // Other processes on the server's CPU (this box is shared) make every number worse.
  const othersPct = serverCpuIndex === undefined ? NaN : ((cpuBusyUs(serverCpuIndex) - busy0 - serverCpu) / wallUs) * 100;
  const row = emptyRow(phase.scenario, phase.label, targetName);
  const publishSeconds = (m.publish.endUs - m.publish.startUs) / 1e6;
  row.publishesPerSec = m.publish.ok / publishSeconds;
  row.publishErrors = m.publish.errors;
  row.lost = m.lost;
  row.duplicates = m.duplicates;
  row.disconnects = m.disconnects;
  row.loadCpuPct = loadCpuPct;
  if (phase.perPublish) {
    row.cpuUsPerPublish = m.publish.ok > 0 ? serverCpu / m.publish.ok : undefined;
  } else {
    // At least the publishing time: N messages at a fixed rate span (N-1)/rate seconds.
    const deliverySeconds = Math.max(publishSeconds, (m.lastUs - m.publish.startUs) / 1e6);
    row.deliveriesPerSec = m.delivered > 0 ? m.delivered / deliverySeconds : 0;
    row.p50Ms = m.histogram.percentile(0.5) / 1000;
    row.p99Ms = m.histogram.percentile(0.99) / 1000;
    row.cpuUsPerDelivery = m.delivered > 0 ? serverCpu / m.delivered : undefined;
    row.delivered = m.delivered;
  }
  if (m.publish.errorSamples.length > 0) row.notes.push(`publish errors: ${m.publish.errorSamples.join(', ')}`);
  if (m.stale > 0) row.notes.push(`${m.stale} late deliveries from an earlier scenario`);
  // One load CPU for every load process: near 100% means the numbers are a floor.
  if (loadCpuPct > 90) row.notes.push(`load generator at ${loadCpuPct.toFixed(0)}% CPU: a lower bound`);
  row.serverCpuPct = (serverCpu / wallUs) * 100;
  if (othersPct > 10) row.notes.push(`other processes used ${othersPct.toFixed(0)}% of the server CPU meanwhile`);
  row.othersOnServerCpuPct = othersPct;
  return row;
}

/** Group A: scenarios 5 (idle RSS), 2 (fixed-rate latency) and 1 (broadcast), on one topic. */
async function broadcastGroup(target: Target, ctx: BenchContext, want: { s5: boolean; s2: boolean; s1: boolean; as6?: boolean }): Promise<Row[]> {
  const { sizes } = ctx.options;
  const rows: Row[] = [];
  await withServer(target, ctx, async (server) => {
    await sleep(sizes.settleMs);
    const before = sampleTrees(server.roots).rssKb;
    await withLoad(server, ctx, { subscribers: sizes.subscribers, topics: 1 }, async (load, connectMs) => {
      await sleep(sizes.settleMs);
      if (want.s5) {
        const idle = sampleTrees(server.roots).rssKb;
        const row = emptyRow(want.as6 ? 6 : 5, want.as6 ? 'idle RSS, workers' : 'idle RSS / connection', target.name);
        row.rssKbPerConn = (idle - before) / sizes.subscribers;
        row.notes.push(`RSS ${(before / 1024).toFixed(0)} -> ${(idle / 1024).toFixed(0)} MB; ${sizes.subscribers} connected in ${(connectMs / 1000).toFixed(1)} s`);
        rows.push(row);
      }
      if (want.s2) {
        const label = `latency @${sizes.latencyRate * sizes.subscribers}/s`;
        rows.push(await measured(load, server, ctx, target.name, { scenario: 2, label, mode: { kind: 'rate', perSecond: sizes.latencyRate }, topicCount: 1, maxInFlight: 4 }));
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

/** Runs the scenarios that apply to one target; a failing group becomes a row with an error. */
export async function runTarget(target: Target, ctx: BenchContext, workersMode = false): Promise<Row[]> {
  const s = ctx.options.scenarios;
  const groups: [string, () => Promise<Row[]>][] = [];
  if (workersMode) {
    groups.push(['6', () => broadcastGroup(target, ctx, { s5: true, s2: false, s1: true, as6: true })]);
  } else {
    if (s.has(5) || s.has(2) || s.has(1)) groups.push(['5/2/1', () => broadcastGroup(target, ctx, { s5: s.has(5), s2: s.has(2), s1: s.has(1) })]);
    if (s.has(3)) groups.push(['3', () => topicsGroup(target, ctx)]);
    if (s.has(4)) groups.push(['4', () => publishGroup(target, ctx)]);
  }
  const rows: Row[] = [];
  for (const [name, run] of groups) {
    const started = Date.now();
    try {
      rows.push(...(await run()));
    } catch (error) {
      const row = emptyRow(Number(name.split('/')[0]), `scenario ${name}`, target.name);
      // One line for the table, ending with the server's last words.
      const lines = String((error as Error).message).split('\n').map((l) => l.trim()).filter(Boolean);
      row.error = [...new Set([lines[0], ...lines.slice(-2)])].join(' | ').slice(0, 400);
      rows.push(row);
    }
    process.stderr.write(`  ${target.name}: scenario ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return rows;
}
