// The counting histogram against prom-client's own Histogram: the same observations
// (boundary values, values past the last bound, many small ones whose float sum
// depends on order) must give byte-identical /metrics text and equal JSON exports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { CountingHistogram } from './counting-histogram.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HELP = 'Time from a publish accepted to its bytes written (one observation per update)';

function pair(): { ours: CountingHistogram; theirs: Histogram; oursRegistry: Registry; theirsRegistry: Registry } {
  const oursRegistry = new Registry();
  const theirsRegistry = new Registry();
  const ours = new CountingHistogram({ name: 'herald_test_seconds', help: HELP, buckets: BUCKETS, registers: [oursRegistry] });
  const theirs = new Histogram({ name: 'herald_test_seconds', help: HELP, buckets: BUCKETS, registers: [theirsRegistry] });
  return { ours, theirs, oursRegistry, theirsRegistry };
}

async function assertSame(oursRegistry: Registry, theirsRegistry: Registry): Promise<void> {
  assert.equal(await oursRegistry.metrics(), await theirsRegistry.metrics());
  assert.deepEqual(await oursRegistry.getMetricsAsJSON(), await theirsRegistry.getMetricsAsJSON());
}

test('no observations: the same export as an untouched Histogram', async () => {
  const { oursRegistry, theirsRegistry } = pair();
  await assertSame(oursRegistry, theirsRegistry);
});

test('boundaries, values past the last bound, zero and many small values export identically', async () => {
  const { ours, theirs, oursRegistry, theirsRegistry } = pair();
  const values = [0, 0.0005, 0.00050001, 1, 5, 5.0001, 60, 0.3, ...BUCKETS];
  // Pseudo-random but fixed: order-dependent float sums must match too.
  let x = 7;
  for (let i = 0; i < 5000; i++) {
    x = (x * 48271) % 2147483647;
    values.push((x / 2147483647) ** 3 * 3);
  }
  for (const value of values) {
    ours.observe(value);
    theirs.observe(value);
  }
  await assertSame(oursRegistry, theirsRegistry);
  const text = await oursRegistry.metrics();
  const atMost = (bound: number) => values.filter((v) => v <= bound).length;
  assert.ok(atMost(0.0005) >= 3);
  assert.match(text, new RegExp(`^herald_test_seconds_bucket\\{le="0\\.0005"\\} ${atMost(0.0005)}$`, 'm'));
  assert.match(text, new RegExp(`^herald_test_seconds_bucket\\{le="5"\\} ${atMost(5)}$`, 'm'));
  assert.match(text, new RegExp(`^herald_test_seconds_bucket\\{le="\\+Inf"\\} ${values.length}$`, 'm'));
});

test('a non-finite value is refused, as by prom-client, and leaves the counts alone', async () => {
  const { ours, theirs, oursRegistry, theirsRegistry } = pair();
  ours.observe(0.002);
  theirs.observe(0.002);
  assert.throws(() => ours.observe(Number.NaN), TypeError);
  assert.throws(() => theirs.observe(Number.NaN), TypeError);
  assert.throws(() => ours.observe(Number.POSITIVE_INFINITY), TypeError);
  await assertSame(oursRegistry, theirsRegistry);
});

test('resetMetrics zeroes it', async () => {
  const { ours, oursRegistry } = pair();
  ours.observe(0.2);
  oursRegistry.resetMetrics();
  assert.match(await oursRegistry.metrics(), /^herald_test_seconds_count 0$/m);
});
