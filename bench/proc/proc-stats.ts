// Server-side cost from /proc: CPU time (utime + stime, all threads) and resident
// memory (VmRSS), summed over a process and all its descendants, so that nginx's
// master + worker or Herald's cluster count as one server.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface StatLine {
  readonly state: string;
  readonly ppid: number;
  readonly cpuTicks: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The parent of a live process; undefined when it is gone or a zombie. */
export function liveParentOf(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z' ? undefined : stat.ppid;
}

/** `root` and every live descendant. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU time in microseconds used so far by these processes (10 ms resolution). */
export function cpuTimeUs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return (ticks / CLOCK_TICKS) * 1e6;
}

/** Resident set size in KB, summed. */
export function rssKb(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      // Exited meanwhile.
    }
  }
  return total;
}

export interface TreeSample {
  readonly cpuUs: number;
  readonly rssKb: number;
}

/** CPU and RSS summed over the trees under each root. */
export function sampleTrees(roots: readonly number[]): TreeSample {
  const pids = roots.flatMap(processTree);
  return { cpuUs: cpuTimeUs(pids), rssKb: rssKb(pids) };
}

/** Busy time (all but idle and iowait) of one CPU so far, in microseconds, from /proc/stat. */
export function cpuBusyUs(cpu: number): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return NaN;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return ((total - idle) / CLOCK_TICKS) * 1e6;
  } catch {
    return NaN;
  }
}

/** The soft open-files limit of a process (`ulimit -n` as it applies to it); 0 when unknown. */
export function openFilesLimit(pid: number): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!match) return 0;
    return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return 0;
  }
}

/**
 * Time the main threads of these processes spent runnable but waiting for a CPU, in
 * µs (/proc/<pid>/schedstat): what other tenants of the CPU cost them in latency.
 */
export function runQueueWaitUs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0);
    } catch {
      // Exited meanwhile.
    }
  }
  return ns / 1000;
}

/** Open file descriptors of a process (sockets included); 0 when unknown. */
export function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
