/**
 * A local budget of ACME orders per registered domain per week, recorded in
 * AcmeOrder, so Runway stops long before a CA's own rate limit (Let's
 * Encrypt: 50 certificates per registered domain per week).
 */
import { nanoid } from 'nanoid';
import { getDomain } from 'tldts';
import type { Database } from '../db/prisma.js';
import { AcmeFailure } from './acme-failure.js';

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** eTLD+1 by the Public Suffix List (private suffixes like github.io count as suffixes). */
export function registeredDomain(hostname: string): string {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname;
}

export class OrderBudget {
  constructor(private readonly db: Database, private readonly perWeek: number, private readonly now: () => Date = () => new Date()) {}

  /**
   * Records an order about to be placed, or throws ORDER_BUDGET_EXHAUSTED
   * with the time the oldest counted order leaves the window.
   */
  async reserve(hostname: string): Promise<string> {
    const domain = registeredDomain(hostname);
    const since = new Date(this.now().getTime() - WEEK_MS);
    const orders = await this.db.acmeOrder.findMany({
      where: { registeredDomain: domain, createdAt: { gt: since } },
      orderBy: { createdAt: 'asc' },
      select: { createdAt: true },
    });
    if (orders.length >= this.perWeek) {
      const retryAt = new Date(orders[0]!.createdAt.getTime() + WEEK_MS);
      throw new AcmeFailure(
        'ORDER_BUDGET_EXHAUSTED',
        `${orders.length} orders for ${domain} in the last 7 days (budget ${this.perWeek}); next order possible at ${retryAt.toISOString()}`,
        { retryAt },
      );
    }
    const id = nanoid();
    await this.db.acmeOrder.create({ data: { id, registeredDomain: domain, hostname, outcome: 'pending', createdAt: this.now() } });
    return id;
  }

  async settle(orderId: string, outcome: string): Promise<void> {
    await this.db.acmeOrder.update({ where: { id: orderId }, data: { outcome: outcome.slice(0, 500) } });
  }
}
