// Child processes the cluster owns: started, awaited and stopped with a deadline
// (SIGKILL past it), so neither `npm run cluster` nor a test leaves one behind.
// They are spawned detached (their own process group): a Ctrl-C reaches only the
// cluster script, which stops them in order, each signalled once.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ManagedChild {
  readonly name: string;
  readonly child: ChildProcess;
  /** The exit code, or the signal name, once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Sends `signal`, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export function manage(name: string, child: ChildProcess): ManagedChild {
  const exited = new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 0);
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? 0));
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    exited,
    stop: async (signal = 'SIGTERM', graceMs = 5000) => {
      if (running()) child.kill(signal);
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Every live descendant of `pid` (children, grandchildren...), from /proc (Linux). */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = parents.get(ppid) ?? [];
    siblings.push(Number(entry));
    parents.set(ppid, siblings);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && found.length < 10_000) {
    for (const childPid of parents.get(queue.shift()!) ?? []) {
      found.push(childPid);
      queue.push(childPid);
    }
  }
  return found;
}

/** True while a process with this pid exists (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Collects a child's output lines (for error messages) and hands each to `onLine`. */
export function readLines(child: ChildProcess, onLine: (line: string, stream: 'stdout' | 'stderr') => void): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let pending = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, newline), stream);
        pending = pending.slice(newline + 1);
      }
    });
  }
}
