// Unit tests of the bench report: ratio orientation (> 1 means Herald is better),
// batch rows compared with the baselines' single publishes, and what --smoke fails on.
// Run: node --import tsx --test bench/*.test.ts bench/loadgen/*.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBeforeAfter, formatRatios, formatTable, headlineRatios, problems, type Row } from './report.js';

function row(scenario: number, target: string, fields: Partial<Row>): Row {
  return { scenario, label: fields.label ?? `s${scenario}`, target, lost: 0, duplicates: 0, disconnects: 0, publishErrors: 0, notes: [], ...fields };
}

test('ratios are oriented so that > 1 means Herald is better', () => {
  const rows = [
    row(1, 'herald', { deliveriesPerSec: 300 }),
    row(1, 'nchan', { deliveriesPerSec: 100 }),
    row(1, 'tutorial', { deliveriesPerSec: 600 }),
    row(2, 'herald', { p99Ms: 5 }),
    row(2, 'nchan', { p99Ms: 10 }),
    row(4, 'herald', { label: 'single', publishesPerSec: 1000, cpuUsPerPublish: 40 }),
    row(4, 'herald', { label: 'batch', publishesPerSec: 8000 }),
    row(4, 'nchan', { publishesPerSec: 2000, cpuUsPerPublish: 20 }),
    row(6, 'herald --workers 2', { deliveriesPerSec: 200 }),
  ];
  const ratios = headlineRatios(rows).map((r) => [r.scenario, r.label, r.what, r.vsNchan, r.vsTutorial]);
  assert.deepEqual(ratios, [
    [1, 's1', 'deliveries/s', 3, 0.5],
    [2, 's2', 'p99 latency', 2, undefined],
    [4, 'single', 'publishes/s', 0.5, undefined],
    [4, 'single', 'CPU per publish', 0.5, undefined],
    [4, 'batch', 'publishes/s', 4, undefined],
    [6, 's6', 'deliveries/s vs 1', 2, 1 / 3],
  ]);
});

test('problems lists loss, duplicates, disconnects, publish errors and failed scenarios', () => {
  const rows = [
    row(1, 'herald', { lost: 2 }),
    row(2, 'nchan', { duplicates: 1, disconnects: 3 }),
    row(3, 'tutorial', { publishErrors: 4 }),
    row(4, 'herald', { error: 'boom' }),
    row(5, 'herald', {}),
  ];
  assert.deepEqual(problems(rows), [
    'herald scenario 1: 2 lost deliveries',
    'nchan scenario 2: 1 duplicates',
    'nchan scenario 2: 3 subscribers disconnected',
    'tutorial scenario 3: 4 failed publishes',
    'herald scenario 4: boom',
  ]);
  assert.match(formatTable(rows), /ERROR: boom/);
});

test('no ratio when a load generator was saturated, on either side', () => {
  const rows = [
    row(1, 'herald', { deliveriesPerSec: 900, loadCpuPct: 99 }),
    row(1, 'nchan', { deliveriesPerSec: 100, loadCpuPct: 30 }),
    row(8, 'herald', { publishesPerSec: 1000, cpuUsPerPublish: 20, loadCpuPct: 50 }),
    row(8, 'nchan', { publishesPerSec: 2000, cpuUsPerPublish: 10, loadCpuPct: 95 }),
    row(8, 'tutorial', { publishesPerSec: 500, cpuUsPerPublish: 40, loadCpuPct: 60 }),
  ];
  const ratios = headlineRatios(rows);
  assert.deepEqual(ratios.map((r) => [r.scenario, r.what, r.vsNchan, r.vsTutorial, r.saturated]), [
    [1, 'deliveries/s', undefined, undefined, ['nchan']],
    [8, 'publishes/s', undefined, 2, ['nchan']],
    [8, 'CPU per publish', undefined, 2, ['nchan']],
  ]);
  assert.match(formatRatios(ratios), /vs nchan saturated/);
  assert.match(formatTable(rows), /99 SAT/);
});

test('before/after compares an earlier build with this one, row by row', () => {
  const rows = [
    row(8, 'herald@abc123', { label: 'p', publishesPerSec: 5000, cpuUsPerPublish: 100, allocBytesPerPublish: 20_000 }),
    row(8, 'herald', { label: 'p', publishesPerSec: 10_000, cpuUsPerPublish: 50, allocBytesPerPublish: 2000 }),
  ];
  const text = formatBeforeAfter(rows) ?? '';
  assert.match(text, /publishes\/s .* 2\.00x/);
  assert.match(text, /CPU µs\/publish .* 2\.00x/);
  assert.match(text, /heap B\/publish .* 10\.00x/);
  assert.equal(formatBeforeAfter([rows[1]!]), undefined);
});
