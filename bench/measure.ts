// The building blocks every scenario uses: a fresh server per group, a load
// generator connected to it, and one measured publish phase turned into a report
// row (throughput, latency, loss, server CPU, and how busy the machine was).
import { LoadGenerator, type Measurement } from './load-generator.js';
import type { PublishMode } from './loadgen/protocol.js';
import type { BenchOptions } from './options.js';
import { cpuBusyUs, cpuTimeUs, processTree, runQueueWaitUs, sampleTrees } from './proc/proc-stats.js';
import { loadSaturated, type Noise, type Row } from './report.js';
import type { RunningTarget, Target } from './targets/target.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly serverCpus?: string;
  readonly loadCpus?: string;
  readonly lifetimeSeconds: number;
}

export interface Phase {
  readonly scenario: number;
  readonly label: string;
  readonly mode: PublishMode;
  readonly topicCount: number;
  readonly maxInFlight: number;
  readonly batch?: boolean;
  readonly window?: number;
  /** Report server CPU per publish instead of per delivery (no subscribers). */
  readonly perPublish?: boolean;
  /** Publishing time; default: the run's seconds per scenario. */
  readonly durationMs?: number;
  /** Publish the same way for the run's warm-up seconds first, unmeasured. */
  readonly warmup?: boolean;
}

let lastTag = 0;

export function emptyRow(scenario: number, label: string, target: string): Row {
  return { scenario, label, target, lost: 0, duplicates: 0, disconnects: 0, publishErrors: 0, notes: [] };
}

/** Starts `target` fresh for `fn` and stops it afterwards, whatever happens. */
export async function withServer<T>(
  target: Target,
  ctx: BenchContext,
  fn: (server: RunningTarget) => Promise<T>,
  maxConnections = ctx.options.sizes.subscribers,
): Promise<T> {
  const server = await target.start({ cpus: ctx.serverCpus, lifetimeSeconds: ctx.lifetimeSeconds, maxConnections });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Starts the load generator and connects `shape.subscribers` (throws if any fails). */
export async function withLoad<T>(
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

/** One measured phase: probe barrier, publishing, drain; the row for the table. */
export async function measured(load: LoadGenerator, server: RunningTarget, ctx: BenchContext, targetName: string, phase: Phase): Promise<Row> {
  if (phase.warmup && ctx.options.sizes.warmupSeconds > 0) {
    const warmupTag = ++lastTag;
    await load.barrier(warmupTag, 30_000);
    const durationMs = ctx.options.sizes.warmupSeconds * 1000;
    await load.measure({ tag: warmupTag, mode: phase.mode, durationMs, maxInFlight: phase.maxInFlight, topicCount: phase.topicCount, batch: false }, ctx.options.sizes.drain);
  }
  const tag = ++lastTag;
  await load.barrier(tag, 30_000);
  const cpu0 = sampleTrees(server.roots).cpuUs;
  const load0 = cpuTimeUs(load.pids());
  const serverPids = server.roots.flatMap(processTree);
  const serverWait0 = runQueueWaitUs(serverPids);
  const loadWait0 = runQueueWaitUs(load.pids());
  const serverCpuIndex = ctx.serverCpus === undefined ? undefined : Number(ctx.serverCpus);
  const busy0 = serverCpuIndex === undefined ? NaN : cpuBusyUs(serverCpuIndex);
  server.alloc?.begin();
  const wall0 = performance.now();
  const m: Measurement = await load.measure(
    {
      tag,
      mode: phase.mode,
      durationMs: phase.durationMs ?? ctx.options.sizes.seconds * 1000,
      maxInFlight: phase.maxInFlight,
      topicCount: phase.topicCount,
      batch: phase.batch ?? false,
    },
    ctx.options.sizes.drain,
    phase.window,
  );
  const wallUs = (performance.now() - wall0) * 1000;
  const serverCpu = sampleTrees(server.roots).cpuUs - cpu0;
  const allocated = await server.alloc?.end();
  const noise: Noise = {
    serverWaitPct: ((runQueueWaitUs(serverPids) - serverWait0) / wallUs) * 100,
    loadWaitPct: ((runQueueWaitUs(load.pids()) - loadWait0) / wallUs) * 100,
    loadLoopP99Ms: m.loopDelayP99Ms,
    loadLoopMaxMs: m.loopDelayMaxMs,
    loadGcMaxMs: m.gcMaxMs,
    loadGcPct: ((m.gcTotalMs * 1000) / wallUs) * 100,
  };
  if (phase.mode.kind === 'rate') {
    const { lateSends, maxLateUs, capped, loopP99Ms, loopMaxMs, gcMaxMs } = m.publish.pacing;
    noise.publisherLatePct = m.publish.issued > 0 ? (lateSends / m.publish.issued) * 100 : 0;
    noise.publisherMaxLateMs = maxLateUs / 1000;
    noise.publisherCapped = capped;
    noise.publisherLoopP99Ms = loopP99Ms;
    noise.publisherLoopMaxMs = loopMaxMs;
    noise.publisherGcMaxMs = gcMaxMs;
    noise.p99FromSendMs = m.fromSend.percentile(0.99) / 1000;
  }
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
  // Over the whole window (publishing and the drain): everything each publish cost the server's heap.
  if (allocated !== undefined && m.publish.ok > 0) row.allocBytesPerPublish = allocated / m.publish.ok;
  if (phase.perPublish) row.cpuUsPerPublish = m.publish.ok > 0 ? serverCpu / m.publish.ok : undefined;
  else row.cpuUsPerDelivery = m.delivered > 0 ? serverCpu / m.delivered : undefined;
  if (!phase.perPublish || m.expected > 0) {
    // At least the publishing time: N messages at a fixed rate span (N-1)/rate seconds.
    const deliverySeconds = Math.max(publishSeconds, (m.lastUs - m.publish.startUs) / 1e6);
    row.deliveriesPerSec = m.delivered > 0 ? m.delivered / deliverySeconds : 0;
    row.p50Ms = m.histogram.percentile(0.5) / 1000;
    row.p99Ms = m.histogram.percentile(0.99) / 1000;
    row.delivered = m.delivered;
  }
  if (m.publish.errorSamples.length > 0) row.notes.push(`publish errors: ${m.publish.errorSamples.join(', ')}`);
  if (m.stale > 0) row.notes.push(`${m.stale} late deliveries from an earlier scenario`);
  // One load CPU for every load process: near 100% means the numbers are a floor.
  if (loadSaturated(row)) row.notes.push(`load generator saturated (${loadCpuPct.toFixed(0)}% of its CPU): the load, not the server, was the limit; no ratio`);
  row.serverCpuPct = (serverCpu / wallUs) * 100;
  if (othersPct > 10) row.notes.push(`other processes used ${othersPct.toFixed(0)}% of the server CPU meanwhile`);
  row.othersOnServerCpuPct = othersPct;
  row.noise = noise;
  row.phaseUs = [m.publish.startUs, m.publish.endUs];
  if (phase.mode.kind === 'rate' && !phase.perPublish) row.notes.push(describeNoise(noise));
  return row;
}

/** One line on what besides the server shapes a fixed-rate phase's latency tail. */
function describeNoise(n: Noise): string {
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(v < 10 ? 1 : 0));
  return (
    `noise: waiting for a CPU: server ${f(n.serverWaitPct)}%, load ${f(n.loadWaitPct)}%; ` +
    `publisher: ${f(n.publisherLatePct)}% of sends >= 2 ms late (worst ${f(n.publisherMaxLateMs)} ms, all slots busy ${n.publisherCapped ?? 0}x), ` +
    `loop p99/max ${f(n.publisherLoopP99Ms)}/${f(n.publisherLoopMaxMs)} ms, GC max ${f(n.publisherGcMaxMs)} ms; ` +
    `p99 from the actual send ${f(n.p99FromSendMs)} ms; ` +
    `subscribers: loop p99/max ${f(n.loadLoopP99Ms)}/${f(n.loadLoopMaxMs)} ms, GC ${f(n.loadGcPct)}% (max ${f(n.loadGcMaxMs)} ms)`
  );
}
