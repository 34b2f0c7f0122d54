// One timer for every raw-door connection's deadline, as Node's HTTP server checks
// its connections (connectionsCheckingInterval) instead of a timer per request.
export class Sweeper {
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number, sweep: () => void) {
    this.timer = setInterval(sweep, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
