import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithKey, testAccessUseCases, type UserWithKey } from '../support/api-keys.js';
import { startRunway, type RunwayInstance } from '../support/runway-instance.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let t: TestDatabase;
let runway: RunwayInstance;
let browser: Browser;
let user: UserWithKey;

beforeAll(async () => {
  t = await createTestDatabase('linkpage');
  runway = await startRunway({ DATABASE_URL: t.url, REDIS_PREFIX: uniquePrefix('linkpage') });
  user = await createUserWithKey(t.db, { scopes: ['ENVIRONMENTS_READ'] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await runway?.stop();
  await t?.drop();
});

async function newLink(): Promise<string> {
  const link = await testAccessUseCases(t.db).createMagicLink({ userId: user.user.id, role: 'USER', scopes: [] }, { scopes: ['DEPLOYMENTS_READ'] });
  return `${runway.url}/auth/verify?token=${link.token}`;
}

async function keyWorks(apiKey: string): Promise<boolean> {
  return (await fetch(`${runway.url}/auth/keys`, { headers: { 'x-api-key': apiKey } })).status === 200;
}

describe('magic-link page in headless Chromium', () => {
  it('confirms, then shows the key once; the copy button puts it on the clipboard; the CSP holds', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: runway.url });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(await newLink());
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'; style-src 'nonce-[^']+'/);
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    await expect(page.locator('h1').textContent()).resolves.toContain('Create your Runway API key');
    expect(await page.locator('input[name=token]').count()).toBe(1);

    const [keyResponse] = await Promise.all([page.waitForResponse((res) => res.request().method() === 'POST'), page.click('button[type=submit]')]);
    expect(keyResponse.status()).toBe(200);
    expect(keyResponse.headers()['cache-control']).toBe('no-store');
    const apiKey = await page.inputValue('#api-key');
    expect(apiKey).toMatch(/^rw_prod_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}$/);
    await expect(page.isVisible('#copy')).resolves.toBe(true);
    await page.click('#copy');
    await expect.poll(() => page.textContent('#copy')).toBe('Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(apiKey);
    expect(await keyWorks(apiKey)).toBe(true);
    // The style is applied (nonce accepted) and nothing was blocked.
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('640px');
    expect(violations).toEqual([]);

    // Reloading or going back never shows the key again.
    await page.goBack();
    await page.reload();
    expect(await page.locator('#api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(apiKey);
    await context.close();
  });

  it('works without JavaScript: a plain form POST shows the key (no copy button)', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(await newLink());
    await Promise.all([page.waitForURL(`${runway.url}/auth/verify`), page.click('button[type=submit]')]);
    const apiKey = await page.inputValue('#api-key');
    expect(apiKey).toMatch(/^rw_prod_/);
    expect(await page.isVisible('#copy')).toBe(false);
    expect(await keyWorks(apiKey)).toBe(true);
    await context.close();
  });

  it('shows a page, not JSON, for a used link from the form', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const url = await newLink();
    await page.goto(url);
    await page.click('button[type=submit]');
    await page.waitForURL(`${runway.url}/auth/verify`);
    const again = await page.goto(url);
    expect(again?.status()).toBe(410);
    expect(await page.textContent('h1')).toContain('can no longer be used');
    await context.close();
  });
});
