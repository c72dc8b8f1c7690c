/** A fixed one-minute window per caller, in memory: enough for one API process; a fleet would share it in Redis. */
export class RateLimiter {
  private windowStart = Date.now();
  private counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  allow(caller: string): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.counts.clear();
    }
    const used = (this.counts.get(caller) ?? 0) + 1;
    this.counts.set(caller, used);
    return used <= this.perMinute;
  }
}
