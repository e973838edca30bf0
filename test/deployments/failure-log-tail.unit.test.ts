import { describe, expect, it } from 'vitest';
import { boundTail, LOG_TAIL_BYTES, MASK, maskValues } from '../../src/core/deployments/failure-log-tail.js';

describe('a failed deployment’s stored log tail', () => {
  it('masks env var values, longest first, and leaves short values alone', () => {
    const lines = maskValues(['pw=abcd1234xyz user=abcd1234 on'], { PW: 'abcd1234xyz', USER: 'abcd1234', FLAG: 'on' });
    expect(lines).toEqual([`pw=${MASK} user=${MASK} on`]);
  });

  it('keeps the newest whole lines within the byte bound', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const tail = boundTail(lines)!;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail.split('\n').at(-1)).toBe(lines.at(-1));
    expect(tail.split('\n')[0]).toMatch(/^line \d+ x+$/);
  });

  it('keeps the end of a single line longer than the bound, and nothing for blank output', () => {
    const tail = boundTail([`${'é'.repeat(LOG_TAIL_BYTES)}END`])!;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail.endsWith('END')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
    expect(boundTail(['', '  '])).toBeUndefined();
  });
});
