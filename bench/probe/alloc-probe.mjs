// Preloaded into a Herald server by the bench (`--import`): counts the bytes the
// process allocates on the JS heap between two SIGUSR2s, so a phase's garbage per
// publish can be reported. Allocation = growth of the used heap, GC by GC: for each
// collection in the window, (used before it) - (used after the previous one), plus
// the growth since the last one (v8.GCProfiler gives both sides of every GC).
// Each window's result is appended as one JSON line to $HERALD_ALLOC_PROBE.
import { appendFileSync } from 'node:fs';
import { GCProfiler, getHeapStatistics } from 'node:v8';

const out = process.env.HERALD_ALLOC_PROBE;
let profiler;
let startUsed = 0;

if (out) {
  process.on('SIGUSR2', () => {
    if (profiler === undefined) {
      profiler = new GCProfiler();
      profiler.start();
      startUsed = getHeapStatistics().used_heap_size;
      return;
    }
    const endUsed = getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    profiler = undefined;
    let allocated = 0;
    let last = startUsed;
    for (const gc of statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - last);
      last = gc.afterGC.heapStatistics.usedHeapSize;
    }
    allocated += Math.max(0, endUsed - last);
    appendFileSync(out, `${JSON.stringify({ pid: process.pid, allocated, gcs: statistics.length })}\n`);
  });
}
