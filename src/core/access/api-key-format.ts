import { nanoid } from 'nanoid';

/** SPEC section 2: keyId and secret are 16 url-safe characters each (nanoid's alphabet, crypto random). */
const KEY_PART_LENGTH = 16;
const generatePart = () => nanoid(KEY_PART_LENGTH);

/**
 * `rw_{env}_{keyId}.{secret}`. `env` never holds `_` (config enforces
 * [a-z0-9]), so the first `_` after `rw_` ends it even though keyId may hold `_`.
 */
const KEY_PATTERN = /^rw_([a-z0-9]{1,16})_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{16})$/;

export interface ParsedApiKey {
  env: string;
  keyId: string;
  secret: string;
}

export interface GeneratedApiKey extends ParsedApiKey {
  /** The full key, shown to its owner exactly once. */
  apiKey: string;
}

export function generateApiKey(env: string): GeneratedApiKey {
  const keyId = generatePart();
  const secret = generatePart();
  return { env, keyId, secret, apiKey: formatApiKey({ env, keyId, secret }) };
}

export function formatApiKey(parts: ParsedApiKey): string {
  return `rw_${parts.env}_${parts.keyId}.${parts.secret}`;
}

/** Undefined for anything that is not exactly a key of the SPEC format. */
export function parseApiKey(candidate: string): ParsedApiKey | undefined {
  // Bound the work a hostile header can cause before the regex runs.
  if (candidate.length > 64) return undefined;
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return undefined;
  const [, env, keyId, secret] = match as unknown as [string, string, string, string];
  return { env, keyId, secret };
}

/** Public key ids are validated with the same rule wherever they arrive (REST, chat, CLI). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
