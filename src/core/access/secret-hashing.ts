import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** SPEC section 2: key secrets are stored only as bcrypt at cost 10. */
export const BCRYPT_COST = 10;

export function hashKeySecret(secret: string): Promise<string> {
  return bcrypt.hash(secret, BCRYPT_COST);
}

export function compareKeySecret(secret: string, hash: string): Promise<boolean> {
  return bcrypt.compare(secret, hash);
}

/**
 * A valid bcrypt hash of a random value, compared against when a key id is
 * unknown so that "unknown key" costs the same time as "wrong secret".
 */
let decoyHash: Promise<string> | undefined;
export function decoyKeyHash(): Promise<string> {
  decoyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), BCRYPT_COST);
  return decoyHash;
}

/**
 * Magic-link tokens are 32 random characters (high entropy), so a fast
 * SHA-256 is enough to keep the stored value useless to a database reader.
 */
export function hashLinkToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
