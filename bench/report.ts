// Turns the bench rows into the printed table, the headline ratios (Herald vs
// nchan and vs the tutorial baseline, per scenario) and the JSON kept in
// bench/results/. Ratios are oriented so that > 1 always means Herald is better.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A load generator over this share of its one CPU was the limit, not the server: its
 * row's throughput is a floor and its latency includes the load's own queueing, so no
 * ratio is printed against or for it.
 */
export const SATURATED_LOAD_PCT = 80;

export function loadSaturated(row: Pick<Row, 'loadCpuPct'> | undefined): boolean {
  return row?.loadCpuPct !== undefined && row.loadCpuPct >= SATURATED_LOAD_PCT;
}

export interface Row {
  scenario: number;
  label: string;
  target: string;
  deliveriesPerSec?: number;
  publishesPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  cpuUsPerDelivery?: number;
  cpuUsPerPublish?: number;
  rssKbPerConn?: number;
  /** JS heap bytes the server allocated over the phase per publish (per update in a batch); Herald only. */
  allocBytesPerPublish?: number;
  delivered?: number;
  /** Subscribers held (scenarios 5, 6 and 7). */
  connections?: number;
  lost: number;
  duplicates: number;
  disconnects: number;
  publishErrors: number;
  loadCpuPct?: number;
  /** Server CPU time / wall time of the phase, in % of one CPU. */
  serverCpuPct?: number;
  /** Busy time of the server's CPU not spent by the server (other tenants), in %. */
  othersOnServerCpuPct?: number;
  /** Publishing start and end on the monotonic clock (µs), to line up with server profiles. */
  phaseUs?: [number, number];
  /** Where latency may come from besides the server's own work (see measure.ts). */
  noise?: Noise;
  error?: string;
  notes: string[];
}

export interface Noise {
  /** % of the phase the server's main thread was runnable but waiting for its CPU. */
  serverWaitPct: number;
  /** The same for the load generator's processes, summed (they share one CPU). */
  loadWaitPct: number;
  /** Fixed rate: % of sends 2 ms or more late (counted as latency), the worst, and how often every slot was busy. */
  publisherLatePct?: number;
  publisherMaxLateMs?: number;
  publisherCapped?: number;
  /** The publisher's own event-loop delay (p99, max) and longest GC pause, ms. */
  publisherLoopP99Ms?: number;
  publisherLoopMaxMs?: number;
  publisherGcMaxMs?: number;
  /** p99 latency measured from the actual send: without the publisher's own lateness. */
  p99FromSendMs?: number;
  /** The worst subscriber process's event-loop delay. */
  loadLoopP99Ms: number;
  loadLoopMaxMs: number;
  /** The subscriber processes' own GC: longest pause, and % of the phase in GC (worst process). */
  loadGcMaxMs: number;
  loadGcPct: number;
}

type Metric = 'deliveriesPerSec' | 'publishesPerSec' | 'p99Ms' | 'rssKbPerConn' | 'cpuUsPerDelivery' | 'cpuUsPerPublish';

interface Headline {
  readonly metric: Metric;
  readonly higher: boolean;
  readonly what: string;
  /** Compare with the baselines' rows of this scenario instead (scenario 6 -> 1). */
  readonly baselineScenario?: number;
}

/**
 * The metrics each scenario is judged by. Server CPU per operation comes second: on a
 * shared box it is the number least disturbed by other tenants of the server's CPU.
 */
const HEADLINE: Record<number, readonly Headline[]> = {
  1: [
    { metric: 'deliveriesPerSec', higher: true, what: 'deliveries/s' },
    { metric: 'cpuUsPerDelivery', higher: false, what: 'CPU per delivery' },
  ],
  2: [{ metric: 'p99Ms', higher: false, what: 'p99 latency' }],
  3: [{ metric: 'p99Ms', higher: false, what: 'p99 latency' }],
  4: [
    { metric: 'publishesPerSec', higher: true, what: 'publishes/s' },
    { metric: 'cpuUsPerPublish', higher: false, what: 'CPU per publish' },
  ],
  5: [{ metric: 'rssKbPerConn', higher: false, what: 'RSS per connection' }],
  6: [
    { metric: 'deliveriesPerSec', higher: true, what: 'deliveries/s vs 1', baselineScenario: 1 },
    { metric: 'cpuUsPerDelivery', higher: false, what: 'CPU/delivery vs 1', baselineScenario: 1 },
  ],
  8: [
    { metric: 'publishesPerSec', higher: true, what: 'publishes/s' },
    { metric: 'cpuUsPerPublish', higher: false, what: 'CPU per publish' },
  ],
};

function num(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  return value.toFixed(digits);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** Rows grouped by scenario (stable: within one, in the order they ran). */
export function formatTable(unsorted: readonly Row[]): string {
  const rows = [...unsorted].sort((a, b) => a.scenario - b.scenario);
  const header = ['#', 'scenario', 'target', 'deliv/s', 'pub/s', 'p50 ms', 'p99 ms', 'CPU µs/op', 'heap B/pub', 'RSS KB/conn', 'lost', 'dup', 'disc', 'pub err', 'srv %', 'load %'];
  const body = rows.map((r) => {
    const cpu = r.cpuUsPerDelivery ?? r.cpuUsPerPublish;
    const cells = [
      String(r.scenario), r.label, r.target,
      num(r.deliveriesPerSec), num(r.publishesPerSec), num(r.p50Ms, 2), num(r.p99Ms, 2),
      cpu === undefined ? '-' : `${cpu.toFixed(2)}${r.cpuUsPerPublish !== undefined ? '/pub' : ''}`,
      num(r.allocBytesPerPublish), num(r.rssKbPerConn, 1), String(r.lost), String(r.duplicates), String(r.disconnects), String(r.publishErrors), num(r.serverCpuPct),
      loadSaturated(r) ? `${num(r.loadCpuPct)} SAT` : num(r.loadCpuPct),
    ];
    return r.error ? [...cells.slice(0, 3), `ERROR: ${r.error}`] : cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.filter((b) => b.length === header.length).map((b) => b[i]!.length)));
  const lines = [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const cells of body) lines.push(cells.length === header.length ? pad(cells, widths) : cells.join('  '));
  const notes = rows.flatMap((r) => r.notes.map((n) => `  [${r.scenario} ${r.target}] ${n}`));
  return [...lines, ...(notes.length > 0 ? ['notes:', ...notes] : [])].join('\n');
}

export interface Ratio {
  readonly scenario: number;
  readonly label: string;
  readonly what: string;
  readonly herald: number;
  /** Undefined: no baseline row, or one of the two rows had its load generator saturated. */
  readonly vsNchan?: number;
  readonly vsTutorial?: number;
  /** The baselines whose comparison is void because a load generator was the limit (Herald's or theirs). */
  readonly saturated: readonly string[];
}

export function headlineRatios(rows: readonly Row[]): Ratio[] {
  const ratios: Ratio[] = [];
  const find = (scenario: number, target: string, metric: Metric): Row | undefined => rows.find((r) => r.scenario === scenario && r.target === target && !r.error && r[metric] !== undefined);
  const value = (scenario: number, target: string, metric: Metric): number | undefined => {
    const v = find(scenario, target, metric)?.[metric];
    return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  // Every Herald row of a scenario is compared (scenario 4 has single and batch rows).
  const heraldRows = rows.filter((r) => r.target.startsWith('herald') && !r.error).sort((a, b) => a.scenario - b.scenario);
  for (const heraldRow of heraldRows) {
    for (const spec of HEADLINE[heraldRow.scenario] ?? []) {
      const herald = heraldRow[spec.metric];
      if (herald === undefined || !(herald > 0)) continue;
      const baseline = spec.baselineScenario ?? heraldRow.scenario;
      const saturated: string[] = [];
      const against = (target: string): number | undefined => {
        const base = value(baseline, target, spec.metric);
        if (base === undefined) return undefined;
        if (loadSaturated(heraldRow) || loadSaturated(find(baseline, target, spec.metric))) {
          saturated.push(target);
          return undefined;
        }
        return spec.higher ? herald / base : base / herald;
      };
      const vsNchan = against('nchan');
      const vsTutorial = against('tutorial');
      ratios.push({ scenario: heraldRow.scenario, label: heraldRow.label, what: spec.what, herald, vsNchan, vsTutorial, saturated });
    }
  }
  return ratios;
}

/** Herald's rows against an earlier build's (`--before REV`, target `herald@REV`), same scenario and label. */
export function formatBeforeAfter(rows: readonly Row[]): string | undefined {
  const before = rows.filter((r) => r.target.startsWith('herald@') && !r.error);
  if (before.length === 0) return undefined;
  const metrics: [Metric | 'allocBytesPerPublish', string, boolean][] = [
    ['publishesPerSec', 'publishes/s', true],
    ['deliveriesPerSec', 'deliveries/s', true],
    ['cpuUsPerPublish', 'CPU µs/publish', false],
    ['cpuUsPerDelivery', 'CPU µs/delivery', false],
    ['allocBytesPerPublish', 'heap B/publish', false],
    ['p99Ms', 'p99 ms', false],
    ['rssKbPerConn', 'RSS KB/conn', false],
  ];
  const lines = ['Before -> after (an earlier build vs this one, same run; > 1 means better now):'];
  for (const old of before) {
    const suffix = old.target.slice(old.target.indexOf(' ') === -1 ? old.target.length : old.target.indexOf(' '));
    const now = rows.find((r) => r.scenario === old.scenario && r.label === old.label && r.target === `herald${suffix}` && !r.error);
    if (now === undefined) continue;
    for (const [metric, what, higher] of metrics) {
      const a = old[metric];
      const b = now[metric];
      if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) continue;
      const ratio = higher ? b / a : a / b;
      const saturated = loadSaturated(old) || loadSaturated(now);
      lines.push(`  ${old.scenario} ${old.label.padEnd(24)} ${what.padEnd(16)} ${num(a, 2).padStart(9)} -> ${num(b, 2).padStart(9)}   ${saturated ? 'saturated' : `${ratio.toFixed(2)}x`}`);
    }
  }
  return lines.join('\n');
}

export function formatRatios(ratios: readonly Ratio[]): string {
  if (ratios.length === 0) return 'Headline: no Herald rows to compare.';
  const lines = [`Headline (Herald vs baseline, > 1 means Herald is better; "saturated": a load generator was at >= ${SATURATED_LOAD_PCT}% of its CPU, no ratio):`];
  for (const r of ratios) {
    const x = (v: number | undefined, target: string): string => (r.saturated.includes(target) ? 'saturated' : v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
    lines.push(`  ${r.scenario} ${r.label.padEnd(24)} ${r.what.padEnd(20)} vs nchan ${x(r.vsNchan, 'nchan').padStart(9)}   vs tutorial ${x(r.vsTutorial, 'tutorial').padStart(9)}`);
  }
  return lines.join('\n');
}

/** Any row whose numbers cannot be trusted (what --smoke fails on). */
export function problems(rows: readonly Row[]): string[] {
  return rows.flatMap((r) => {
    const found: string[] = [];
    if (r.error) found.push(`${r.target} scenario ${r.scenario}: ${r.error}`);
    if (r.lost > 0) found.push(`${r.target} scenario ${r.scenario}: ${r.lost} lost deliveries`);
    if (r.duplicates > 0) found.push(`${r.target} scenario ${r.scenario}: ${r.duplicates} duplicates`);
    if (r.disconnects > 0) found.push(`${r.target} scenario ${r.scenario}: ${r.disconnects} subscribers disconnected`);
    if (r.publishErrors > 0) found.push(`${r.target} scenario ${r.scenario}: ${r.publishErrors} failed publishes`);
    return found;
  });
}

export function writeJson(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
