// `--workers N`: N Herald processes on one port, through node:cluster. Each worker is
// a whole Herald sharing the Redis store (history, fan-out and presence cross
// processes there), so the primary only starts, restarts and stops them.
import cluster from 'node:cluster';
import type { Logger } from 'pino';

const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 10;
const STOP_TIMEOUT_MS = 10_000;

export async function runPrimary(count: number, logger: Logger): Promise<number> {
  // Let the kernel spread connections: the primary would otherwise accept every one.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const restarts: number[] = [];
  const fork = () => cluster.fork({ HERALD_WORKER_OF: String(process.pid) });
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS_PER_WINDOW) {
      logger.error({ code, signal }, 'workers keep dying: giving up');
      void stop('workers crashing');
      return;
    }
    logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited: starting another');
    fork();
  });
  let done: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (done = resolve));
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const exits = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const worker of workers) worker.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await Promise.all(exits);
    clearTimeout(timer);
    done(reason === 'workers crashing' ? 1 : 0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return finished;
}

export function isPrimaryOfWorkers(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}
