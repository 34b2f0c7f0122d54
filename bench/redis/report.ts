// The Redis bench's table and ratios. A row whose load generator (this process) used
// SATURATED_LOAD_PCT or more of its CPU is marked SAT, and a ratio involving it prints
// "saturated" instead of a number (the bench's rule, bench/report.ts).
import { loadSaturated } from '../report.js';
import type { RedisRow } from './scenarios.js';

function cells(row: RedisRow): string {
  const detail = Object.entries(row.detail).map(([k, v]) => `${k}=${v}`).join(' ');
  const load = `${row.loadCpuPct.toFixed(0)}%${loadSaturated(row) ? ' SAT' : ''}`;
  return `${row.scenario.padEnd(3)} ${row.label.padEnd(24)} ${row.value.toFixed(2).padStart(9)} ${row.unit.padEnd(52)} load ${load.padEnd(8)} ${detail}`;
}

/** `a / b` as "1.23x", or "saturated" when either row's load generator was the limit. */
function ratio(a: RedisRow | undefined, b: RedisRow | undefined, value: (r: RedisRow) => number = (r) => r.value): string {
  if (a === undefined || b === undefined) return 'n/a';
  if (loadSaturated(a) || loadSaturated(b)) return 'saturated';
  const x = value(a) / value(b);
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a';
}

export function formatRedisReport(rows: readonly RedisRow[]): string {
  const of = (scenario: RedisRow['scenario']) => rows.filter((r) => r.scenario === scenario);
  const lines = ['Redis (R1 Redis CPU/publish per master, R2 Herald CPU on an uninterested process, R3 rare-topic resume, R4 cross-process latency):', ...rows.map(cells)];
  for (const r of rows) for (const n of r.notes) lines.push(`  [${r.scenario} ${r.label}] ${n}`);
  lines.push('Ratios (> 1 means the second configuration is better):');
  const r1 = of('R1');
  for (const row of r1.slice(1)) lines.push(`  R1 busiest master's CPU per publish, 1 master vs ${row.label}: ${ratio(r1[0], row)}`);
  for (const row of of('R2')) {
    const x = loadSaturated(row) ? 'saturated' : `${(Number(row.detail.publisherUsPerUpdate) / row.value).toFixed(2)}x`;
    lines.push(`  R2 ${row.label}: the publishing process's CPU per update vs the uninterested one's: ${x}`);
  }
  const r3 = of('R3');
  if (r3.length > 1) lines.push(`  R3 resume time, ${r3.at(-1)!.label} vs ${r3[0]!.label} (growth; 1.00x would be flat): ${ratio(r3.at(-1), r3[0])}`);
  const r4 = of('R4');
  if (r4.length > 1) {
    for (const row of r4.slice(1)) {
      lines.push(`  R4 p50, ${r4[0]!.label} vs ${row.label}: ${ratio(r4[0], row)}`);
      lines.push(`  R4 p99, ${r4[0]!.label} vs ${row.label}: ${ratio(r4[0], row, (r) => Number(r.detail.p99Ms))}`);
    }
  } else if (r4.length === 1) lines.push('  R4: one configuration only (no --redis-log-buckets yet), no ratio');
  lines.push(...beforeAfter(rows));
  return lines.join('\n');
}

// --before: each row of an earlier build (label ending in " herald@REV") against this
// build's row of the same configuration; > 1 means better now.
function beforeAfter(rows: readonly RedisRow[]): string[] {
  const lines: string[] = [];
  const figures: Record<RedisRow['scenario'], [string, (r: RedisRow) => number][]> = {
    R1: [['busiest master', (r) => r.value], ['total Redis CPU', (r) => Number(r.detail.totalUs)]],
    R2: [['uninterested process CPU', (r) => r.value]],
    R3: [],
    R4: [['p50', (r) => r.value], ['p99', (r) => Number(r.detail.p99Ms)], ['Redis CPU per publish', (r) => Number(r.detail.redisUsPerPublish)], ['Herald CPU per publish (both processes)', (r) => Number(r.detail.heraldUsPerPublish)],
      ['Redis commands per publish', (r) => Number(r.detail.redisCommandsPerPublish)], ['Redis read events per publish', (r) => Number(r.detail.redisReadsPerPublish)]],
  };
  for (const before of rows) {
    const match = / (herald@\S+)$/.exec(before.label);
    if (match === null) continue;
    const label = before.label.slice(0, match.index);
    const after = rows.find((r) => r.scenario === before.scenario && r.label === label);
    for (const [name, value] of figures[before.scenario]) lines.push(`  before -> after, ${before.scenario} ${label} ${name}: ${value(before).toFixed(2)} -> ${value(after ?? before).toFixed(2)} (${ratio(before, after, value)})`);
  }
  return lines.length > 0 ? ['Before -> after (> 1 means better now):', ...lines] : [];
}
