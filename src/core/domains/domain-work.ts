/**
 * Work the domain use cases hand to the process that owns Nginx (a worker on
 * the edge node). The REST edge only records intent and asks for this; the
 * BullMQ adapter (src/https/domain-jobs.ts) carries it across processes.
 */
export interface DomainWork {
  /** Route the domain and obtain its certificate. */
  activate(domainId: string): Promise<void>;
  /** Re-render every route from the database (after removals). */
  sync(): Promise<void>;
}
