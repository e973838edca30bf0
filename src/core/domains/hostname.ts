/**
 * Strict hostname rules for public domains. Nginx templates render with HTML
 * escaping off, so anything that reaches a template must pass these checks
 * first (STYLE.md example 5).
 */
import { isIP } from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_LENGTH = 253;

/**
 * Returns why `hostname` is not an acceptable public hostname, or undefined
 * when it is: RFC 1123 labels (letters, digits, inner hyphens, 1-63
 * characters), at most 253 characters, at least two labels, a top-level
 * label that is not all digits, no wildcard, no IP address, lowercase.
 */
export function hostnameProblem(hostname: string): string | undefined {
  if (hostname.length === 0) return 'is empty';
  if (hostname.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
  if (hostname.includes('*')) return 'is a wildcard; only exact hostnames can be routed';
  if (isIP(hostname) !== 0 || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0) return 'is an IP address, not a hostname';
  if (hostname !== hostname.toLowerCase()) return 'must be lowercase';
  if (hostname.endsWith('.')) return 'must not end with a dot';
  const labels = hostname.split('.');
  if (labels.length < 2) return 'needs at least two labels (e.g. app.example.com)';
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return bad === ''
      ? 'has an empty label'
      : `has an invalid label "${bad.slice(0, 63)}" (letters, digits and inner hyphens, 1-63 characters)`;
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'has an all-numeric top-level label';
  return undefined;
}

/** Trims and lowercases what a person typed; validation still applies afterwards. */
export function normalizeHostname(input: string): string {
  return input.trim().toLowerCase();
}
