import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

interface Lease {
  left: number;
  /** When the Redis window that granted the points ends; unused points lapse then. */
  until: number;
}

/**
 * A shared Redis limit that does not cost a Redis round trip per request
 * (issue 3's throughput target): an instance takes points from Redis in
 * leases of `leaseSize` and spends them locally. Every admitted request was
 * counted in Redis first, so all instances together never exceed the limit;
 * the price is that points leased but unused by one instance are refused to
 * others until the window ends, at most `leaseSize - 1` per instance and
 * subject. With leaseSize 1 (small limits) every request is counted exactly.
 */
export class LeasedLimiter {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly limiter: RateLimiterAbstract, private readonly leaseSize: number, private readonly maxSubjects = 50_000) {}

  /** Resolves when admitted; rejects with the RateLimiterRes of the exhausted window otherwise. */
  async consume(subject: string): Promise<void> {
    const now = Date.now();
    const lease = this.leases.get(subject);
    if (lease && lease.left > 0 && lease.until > now) {
      lease.left -= 1;
      return;
    }
    if (this.leases.size >= this.maxSubjects) this.dropLapsed(now);
    try {
      const granted = await this.limiter.consume(subject, this.leaseSize);
      this.leases.set(subject, { left: this.leaseSize - 1, until: now + granted.msBeforeNext });
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // The lease overshot the limit; the points that were still free are ours.
      const free = Math.min(this.leaseSize, this.limiter.points - (rejection.consumedPoints - this.leaseSize));
      if (free <= 0) throw rejection;
      this.leases.set(subject, { left: free - 1, until: now + rejection.msBeforeNext });
    }
  }

  private dropLapsed(now: number): void {
    for (const [subject, lease] of this.leases) if (lease.until <= now || lease.left === 0) this.leases.delete(subject);
    if (this.leases.size >= this.maxSubjects) this.leases.clear();
  }
}

/** 1% of the limit per lease: exact for limits up to 199 per window. */
export function leaseSizeFor(points: number): number {
  return Math.max(1, Math.floor(points / 100));
}
