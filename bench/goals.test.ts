// Unit tests of issue 10's target checks: met/missed/not measured per goal, both
// scenario 5 Herald rows judged, and loss anywhere in Herald failing the last goal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGoals, formatGoals } from './goals.js';
import type { Row } from './report.js';

function row(scenario: number, target: string, fields: Partial<Row>): Row {
  return { scenario, label: fields.label ?? `s${scenario}`, target, lost: 0, duplicates: 0, disconnects: 0, publishErrors: 0, notes: [], ...fields };
}

const full: Row[] = [
  row(1, 'herald', { deliveriesPerSec: 600_000 }),
  row(1, 'nchan', { deliveriesPerSec: 100_000 }),
  row(1, 'tutorial', { deliveriesPerSec: 70_000 }),
  row(2, 'herald', { p99Ms: 50 }),
  row(2, 'nchan', { p99Ms: 40 }),
  row(3, 'herald', { p99Ms: 1.5, p50Ms: 0.4 }),
  row(4, 'herald', { label: 'publish, no subscribers', publishesPerSec: 9000 }),
  row(4, 'herald', { label: 'publish, batch', publishesPerSec: 80_000 }),
  row(3, 'nchan', { p99Ms: 1.2 }),
  row(4, 'nchan', { publishesPerSec: 15_000 }),
  row(5, 'herald', { rssKbPerConn: 13.6 }),
  row(5, 'herald --no-chat --no-subscriptions', { rssKbPerConn: 5.9 }),
  row(8, 'herald', { publishesPerSec: 40_000, cpuUsPerPublish: 24 }),
  row(8, 'nchan', { publishesPerSec: 38_000, cpuUsPerPublish: 25 }),
  row(7, 'herald', { label: '19k subscribers, 1 process', connections: 19_000, delivered: 114_000, rssKbPerConn: 12 }),
];

test('each goal is met or missed with its numbers', () => {
  const results = checkGoals(full).map((r) => [r.goal, r.met]);
  assert.deepEqual(results, [
    ['1 broadcast deliveries/s >= 10x nchan\'s', false],
    ['2 p99 at a fixed rate <= nchan\'s', false],
    ['3 p99 over 1000 topics <= 2 ms', true],
    ['3 p99 over 1000 topics <= nchan\'s', false],
    ['8 single publishes/s (JWT) >= nchan\'s', true],
    ['8 server CPU per single publish <= 25 µs', true],
    ['4 batch updates/s >= 5x nchan\'s', true],
    ['5 <= 6 KB RSS per idle connection (herald)', false],
    ['5 <= 6 KB RSS per idle connection (herald --no-chat --no-subscriptions)', true],
    ['7 19k subscribers on one process, none lost', true],
    ['zero lost deliveries (every Herald row)', true],
  ]);
  assert.equal(checkGoals(full)[0]!.detail, 'herald 600000 vs 100000: 6.00x');
});

test('a goal measured with a saturated load generator is not judged', () => {
  const rows = [row(1, 'herald', { deliveriesPerSec: 2_000_000, loadCpuPct: 97 }), row(1, 'nchan', { deliveriesPerSec: 100_000, loadCpuPct: 40 })];
  const broadcast = checkGoals(rows)[0]!;
  assert.equal(broadcast.met, undefined);
  assert.match(broadcast.detail, /load generator saturated \(herald 97%\)/);
});

test('a missing baseline or scenario is not measured, and loss fails goals 7 and the last', () => {
  const rows = [row(3, 'herald', { error: 'boom' }), row(7, 'herald', { connections: 19_000, delivered: 10, lost: 3 })];
  const results = checkGoals(rows);
  const byGoal = new Map(results.map((r) => [r.goal, r]));
  assert.equal(byGoal.get('1 broadcast deliveries/s >= 10x nchan\'s')?.met, undefined);
  assert.equal(byGoal.get('3 p99 over 1000 topics <= 2 ms')?.met, undefined);
  assert.equal(byGoal.get('7 19k subscribers on one process, none lost')?.met, false);
  const last = results[results.length - 1]!;
  assert.deepEqual([last.met, last.detail], [false, '3 lost or duplicated over 2 rows, 1 failed']);
  assert.match(formatGoals(results), /MISSED 7 19k subscribers/);
});

test('scenario 7 with fewer than 19k connections does not meet the goal', () => {
  const few = checkGoals([row(7, 'herald', { connections: 3000, delivered: 18_000 })]).find((r) => r.goal.startsWith('7 '));
  assert.equal(few?.met, false);
});
