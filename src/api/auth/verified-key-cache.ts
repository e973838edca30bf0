import { createHmac, randomBytes } from 'node:crypto';
import type { Principal } from '../../core/principal.js';

export interface VerifiedKey {
  principal: Principal;
  apiKeyRowId: string;
  /** The key's own expiry; checked on every hit, so expiry needs no broadcast. */
  keyExpiresAt: Date | null;
}

interface Entry extends VerifiedKey {
  cachedUntil: number;
}

/**
 * Keys that passed bcrypt recently, so repeated use costs an HMAC instead of
 * ~50 ms of CPU (issue 3). Entries are stored under HMAC-SHA256 of the
 * presented key with a per-process random secret: the key itself is never
 * held, and a memory dump does not give an offline-guessable hash.
 */
export class VerifiedKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly hmacSecret = randomBytes(32);

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000) {}

  fingerprint(presented: string): string {
    return createHmac('sha256', this.hmacSecret).update(presented).digest('base64url');
  }

  /** While revocations might be missed (pub/sub down), every request goes to the database. */
  private suspended = false;

  suspend(): void {
    this.suspended = true;
    this.clear();
  }

  resume(): void {
    this.clear();
    this.suspended = false;
  }

  get(fingerprint: string, now = Date.now()): VerifiedKey | undefined {
    if (this.suspended) return undefined;
    const entry = this.entries.get(fingerprint);
    if (!entry) return undefined;
    if (entry.cachedUntil <= now) {
      this.delete(fingerprint, entry);
      return undefined;
    }
    return entry;
  }

  set(fingerprint: string, verified: VerifiedKey, now = Date.now()): void {
    if (this.ttlMs <= 0 || this.suspended) return;
    if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(fingerprint, { ...verified, cachedUntil: now + this.ttlMs });
    const keyId = verified.principal.keyId ?? '';
    const fingerprints = this.byKeyId.get(keyId) ?? new Set<string>();
    fingerprints.add(fingerprint);
    this.byKeyId.set(keyId, fingerprints);
  }

  /** Forgets a revoked key; its next use goes to the database and fails. */
  dropKey(keyId: string): void {
    for (const fingerprint of this.byKeyId.get(keyId) ?? []) this.entries.delete(fingerprint);
    this.byKeyId.delete(keyId);
  }

  clear(): void {
    this.entries.clear();
    this.byKeyId.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(fingerprint: string, entry: Entry): void {
    this.entries.delete(fingerprint);
    const keyId = entry.principal.keyId ?? '';
    const fingerprints = this.byKeyId.get(keyId);
    fingerprints?.delete(fingerprint);
    if (fingerprints?.size === 0) this.byKeyId.delete(keyId);
  }

  private evictOldest(): void {
    // Map keeps insertion order: the first entry is the oldest.
    const first = this.entries.entries().next();
    if (!first.done) this.delete(first.value[0], first.value[1]);
  }
}
