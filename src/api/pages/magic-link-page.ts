import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/** Served at /auth/verify.js: the page's only script (the CSP allows no inline script). */
export const MAGIC_LINK_SCRIPT = `'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('confirm');
  if (form) form.addEventListener('submit', function () {
    var button = form.querySelector('button');
    if (button) button.disabled = true;
  });
  var copy = document.getElementById('copy');
  var field = document.getElementById('api-key');
  if (!copy || !field) return;
  copy.hidden = false;
  copy.addEventListener('click', function () {
    var done = function () { copy.textContent = 'Copied'; };
    var fallback = function () { field.select(); document.execCommand('copy'); done(); };
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, fallback);
    else fallback();
  });
});
`;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}button{font:inherit;padding:.5rem 1rem;cursor:pointer}
input{font:14px ui-monospace,monospace;width:100%;padding:.5rem;box-sizing:border-box}
.warn{background:#fff4d6;padding:.75rem;border-radius:4px}code{font-family:ui-monospace,monospace}`;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function layout(title: string, body: string, nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)} - Runway</title>
<style nonce="${nonce}">${STYLE}</style><script src="/auth/verify.js" defer></script></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

const scopeList = (scopes: readonly string[]) => scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ');

/** GET: confirms before anything is spent, because link scanners prefetch URLs. */
export function confirmPage(input: { token: string; scopes: readonly string[]; expiresAt: Date }, nonce: string): string {
  return layout('Create your Runway API key', `<p>This link creates one API key with the scopes ${scopeList(input.scopes)}.
It works once and expires at ${escapeHtml(input.expiresAt.toISOString())}.</p>
<form id="confirm" method="post" action="/auth/verify">
<input type="hidden" name="token" value="${escapeHtml(input.token)}">
<button type="submit">Create API key</button>
</form>`, nonce);
}

/** POST from the form: the key, shown this one time. */
export function keyPage(input: { apiKey: string; keyId: string; scopes: readonly string[]; expiresAt: Date | null }, nonce: string): string {
  const expiry = input.expiresAt ? `expires at ${escapeHtml(input.expiresAt.toISOString())}` : 'does not expire';
  return layout('Your API key', `<p class="warn">Copy it now: Runway stores only a hash and cannot show it again.</p>
<p><input id="api-key" type="text" readonly value="${escapeHtml(input.apiKey)}" aria-label="API key"></p>
<p><button id="copy" type="button" hidden>Copy</button></p>
<p>Key id <code>${escapeHtml(input.keyId)}</code>, scopes ${scopeList(input.scopes)}; it ${expiry}.
Send it as <code>X-API-Key</code>. Revoke it with <code>/revoke ${escapeHtml(input.keyId)}</code>.</p>`, nonce);
}

export function errorPage(title: string, message: string, nonce: string): string {
  return layout(title, `<p>${escapeHtml(message)}</p><p>Ask the bot for a new link with <code>/api_create</code>.</p>`, nonce);
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Headers for pages that carry secrets: never cached, never leaked via Referer, no inline script. */
export function sendPage(res: Response, status: number, html: string, nonce: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'self'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  res.status(status).type('html').send(html);
}
