import { describe, expect, it } from 'vitest';
import { formatApiKey, generateApiKey, parseApiKey } from '../../src/core/access/api-key-format.js';

describe('API key format rw_{env}_{keyId}.{secret}', () => {
  it('generates 16+16 url-safe characters and parses them back, even with _ and - inside the key id', () => {
    for (let i = 0; i < 200; i += 1) {
      const key = generateApiKey('prod');
      expect(key.apiKey).toMatch(/^rw_prod_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}$/);
      expect(parseApiKey(key.apiKey)).toEqual({ env: 'prod', keyId: key.keyId, secret: key.secret });
    }
    const tricky = formatApiKey({ env: 'dev2', keyId: '_a-b_c-d_e-f_g-h', secret: '-_-_-_-_-_-_-_-_' });
    expect(parseApiKey(tricky)).toEqual({ env: 'dev2', keyId: '_a-b_c-d_e-f_g-h', secret: '-_-_-_-_-_-_-_-_' });
  });

  it('rejects every other shape', () => {
    const good = 'rw_prod_AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBB';
    for (const bad of ['', 'rw_', good.slice(1), `${good}B`, good.slice(0, -1), good.replace('.', '_'), good.replace('prod', 'PROD'), `${good}\n`, ` ${good}`, good.replace('A', '+'), 'x'.repeat(10_000)]) {
      expect(parseApiKey(bad), JSON.stringify(bad.slice(0, 50))).toBeUndefined();
    }
  });
});
