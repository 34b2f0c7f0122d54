// Issue 10's targets, checked against one run's rows: each says met, missed, or not
// measured (a baseline skipped, a scenario not run), with the numbers behind it.
// Printed under the headline ratios and kept in the JSON; never an exit status.
import { loadSaturated, type Row } from './report.js';

export interface GoalResult {
  readonly goal: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
  readonly detail: string;
}

type Metric = 'deliveriesPerSec' | 'publishesPerSec' | 'p99Ms' | 'rssKbPerConn' | 'cpuUsPerPublish';

function find(rows: readonly Row[], scenario: number, target: string, label?: RegExp): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.target === target && !r.error && (label === undefined || label.test(r.label)));
}

function metric(row: Row | undefined, m: Metric): number | undefined {
  const v = row?.[m];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Herald's value against `factor` x a baseline's: met when Herald is at least that good. */
function versus(what: string, herald: number | undefined, base: number | undefined, factor: number, higher: boolean, baseName: string): GoalResult {
  const goal = `${what} ${higher ? '>=' : '<='} ${factor === 1 ? '' : `${factor}x `}${baseName}'s`;
  if (herald === undefined || base === undefined || !(base > 0) || !(herald > 0)) return { goal, met: undefined, detail: 'not measured' };
  const ratio = higher ? herald / base : base / herald;
  return { goal, met: ratio >= factor, detail: `herald ${fmt(herald)} vs ${fmt(base)}: ${ratio.toFixed(2)}x` };
}

export function checkGoals(rows: readonly Row[]): GoalResult[] {
  const results: GoalResult[] = [];
  const herald = (s: number, label?: RegExp): Row | undefined => find(rows, s, 'herald', label);
  const nchan = (s: number): Row | undefined => find(rows, s, 'nchan');
  const broadcast = herald(1);
  results.push(saturation(versus('1 broadcast deliveries/s', metric(broadcast, 'deliveriesPerSec'), metric(nchan(1), 'deliveriesPerSec'), 10, true, 'nchan'), broadcast, nchan(1)));
  results.push(saturation(versus('2 p99 at a fixed rate', metric(herald(2), 'p99Ms'), metric(nchan(2), 'p99Ms'), 1, false, 'nchan'), herald(2), nchan(2)));
  const topics = herald(3);
  const topicsP99 = metric(topics, 'p99Ms');
  results.push(saturation({
    goal: '3 p99 over 1000 topics <= 2 ms',
    met: topicsP99 === undefined ? undefined : topicsP99 <= 2,
    detail: topicsP99 === undefined ? 'not measured' : `herald p99 ${fmt(topicsP99)} ms (p50 ${fmt(topics?.p50Ms ?? NaN)} ms)`,
  }, topics));
  results.push(saturation(versus('3 p99 over 1000 topics', topicsP99, metric(nchan(3), 'p99Ms'), 1, false, 'nchan'), topics, nchan(3)));
  const single = herald(8) ?? herald(4, /no subscribers/);
  const nchanSingle = nchan(8) ?? nchan(4);
  results.push(saturation(versus(`${single?.scenario ?? 8} single publishes/s (JWT)`, metric(single, 'publishesPerSec'), metric(nchanSingle, 'publishesPerSec'), 1, true, 'nchan'), single, nchanSingle));
  const cpu = single?.cpuUsPerPublish;
  results.push({
    goal: `${single?.scenario ?? 8} server CPU per single publish <= 25 µs`,
    met: cpu === undefined ? undefined : cpu <= 25,
    detail: cpu === undefined ? 'not measured' : `${fmt(cpu)} µs (nchan ${fmt(nchanSingle?.cpuUsPerPublish ?? NaN)} µs)`,
  });
  const batch = herald(4, /batch/);
  results.push(saturation(versus('4 batch updates/s', metric(batch, 'publishesPerSec'), metric(nchan(4), 'publishesPerSec'), 5, true, 'nchan'), batch, nchan(4)));
  for (const row of rows.filter((r) => r.scenario === 5 && r.target.startsWith('herald') && !r.error)) {
    const kb = metric(row, 'rssKbPerConn');
    results.push({
      goal: `5 <= 6 KB RSS per idle connection (${row.target})`,
      met: kb === undefined ? undefined : kb <= 6,
      detail: kb === undefined ? 'not measured' : `${fmt(kb)} KB`,
    });
  }
  const many = rows.find((r) => r.scenario === 7 && r.target === 'herald');
  const held = many?.connections ?? 0;
  results.push({
    goal: '7 19k subscribers on one process, none lost',
    met: many === undefined ? undefined : !many.error && held >= 19_000 && many.lost === 0 && many.duplicates === 0 && many.disconnects === 0 && (many.delivered ?? 0) > 0,
    detail: many === undefined ? 'not measured' : many.error ? `error: ${many.error}` : `${held} connections: ${many.delivered ?? 0} delivered, ${many.lost} lost, ${fmt(many.rssKbPerConn ?? NaN)} KB RSS/connection`,
  });
  const heraldRows = rows.filter((r) => r.target.startsWith('herald'));
  const lost = heraldRows.reduce((t, r) => t + r.lost + r.duplicates, 0);
  const failed = heraldRows.filter((r) => r.error).length;
  results.push({
    goal: 'zero lost deliveries (every Herald row)',
    met: heraldRows.length === 0 ? undefined : lost === 0 && failed === 0,
    detail: `${lost} lost or duplicated over ${heraldRows.length} rows${failed > 0 ? `, ${failed} failed` : ''}`,
  });
  return results;
}

/** A goal measured with a saturated load generator is not measured: its numbers are the load's. */
function saturation(result: GoalResult, ...rows: (Row | undefined)[]): GoalResult {
  const saturated = rows.filter(loadSaturated);
  if (result.met === undefined || saturated.length === 0) return result;
  const which = saturated.map((r) => `${r!.target} ${(r!.loadCpuPct ?? 0).toFixed(0)}%`).join(', ');
  return { goal: result.goal, met: undefined, detail: `load generator saturated (${which}): ${result.detail}` };
}

export function formatGoals(results: readonly GoalResult[]): string {
  const mark = (met: boolean | undefined): string => (met === undefined ? 'n/a   ' : met ? 'met   ' : 'MISSED');
  return ['Issue 10 targets (n/a: not measured, or a load generator saturated):', ...results.map((r) => `  ${mark(r.met)} ${r.goal.padEnd(70)} ${r.detail}`)].join('\n');
}
