// Timer callbacks that cannot take the process down. An exception thrown from a
// timer is an uncaught exception; one bad tick (EMFILE at the fd limit, a bug in a
// sweep) must cost that tick, not every connection. Repeats are logged at most once
// a minute per timer so a failing interval cannot flood the log.
export interface TimerLog {
  error(details: Record<string, unknown>, message: string): void;
}

const QUIET_MS = 60_000;

/** `fn`, with anything it throws (or rejects with) logged under `what` instead of escaping. */
export function guarded(what: string, fn: () => unknown, log?: TimerLog): () => void {
  let lastLogged = -Infinity;
  let suppressed = 0;
  const report = (error: unknown): void => {
    const now = Date.now();
    if (now - lastLogged < QUIET_MS) {
      suppressed += 1;
      return;
    }
    lastLogged = now;
    try {
      log?.error({ err: error, timer: what, suppressed }, `timer "${what}" failed; it keeps running`);
    } catch {
      // The log itself failing (a closed stream) is no reason to crash either.
    }
    suppressed = 0;
  };
  return () => {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  };
}
