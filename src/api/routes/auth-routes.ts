import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { AccessUseCases } from '../../core/access/access-use-cases.js';
import { KEY_ID_PATTERN } from '../../core/access/api-key-format.js';
import { ALL_SCOPES } from '../../core/access/access-dependencies.js';
import { isAppError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { confirmPage, errorPage, keyPage, MAGIC_LINK_SCRIPT, newNonce, sendPage } from '../pages/magic-link-page.js';
import { defineRoute, jsonResponse as json, type RequestAuthenticator } from '../route-builder.js';

const scopeSchema = z.enum(ALL_SCOPES as [string, ...string[]]);
const tokenSchema = z.string().min(1).max(256);
const issuedKeySchema = z
  .object({ apiKey: z.string(), keyId: z.string(), scopes: z.array(scopeSchema), expiresAt: z.iso.datetime().nullable() })
  .openapi('IssuedApiKey');
const keySummarySchema = z
  .object({
    keyId: z.string(),
    scopes: z.array(scopeSchema),
    status: z.enum(['active', 'revoked', 'expired']),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi('ApiKeySummary');
const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });

/** Errors of the HTML flow become pages; anything else goes to the JSON error handler. */
async function withErrorPage(res: Response, work: (nonce: string) => Promise<{ status: number; html: string }>): Promise<void> {
  const nonce = newNonce();
  try {
    const page = await work(nonce);
    sendPage(res, page.status, page.html, nonce);
  } catch (error) {
    if (!isAppError(error) || error.status >= 500) throw error;
    const title = error.status === 410 ? 'This link can no longer be used' : 'This link is not valid';
    sendPage(res, error.status, errorPage(title, error.message, nonce), nonce);
  }
}

const fromForm = (req: Request) => Boolean(req.is('application/x-www-form-urlencoded'));
const principalOf = (principal: Principal | undefined): Principal => principal as Principal;

export function mountAuthRoutes(
  router: Router,
  registry: OpenAPIRegistry,
  options: { useCases: AccessUseCases; authenticator: RequestAuthenticator },
): void {
  const { useCases, authenticator } = options;

  router.get('/auth/verify.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('application/javascript').send(MAGIC_LINK_SCRIPT);
  });

  defineRoute(router, registry, authenticator, {
    method: 'get',
    path: '/auth/verify',
    summary: 'Magic-link page: confirms the link and offers a button; does not use the token',
    tags: ['auth'],
    access: 'public',
    // A link cut short in a chat client still gets a page, not JSON.
    query: z.object({ token: z.string().max(256).default('') }),
    responses: { 200: html('Confirmation page'), 404: html('Unknown link'), 410: html('Link used or expired') },
    handler: async ({ query, res }) => {
      await withErrorPage(res, async (nonce) => {
        const link = await useCases.inspectMagicLink(query.token);
        return { status: 200, html: confirmPage({ token: query.token, ...link }, nonce) };
      });
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'post',
    path: '/auth/verify',
    summary: 'Uses a magic link once and returns the new API key, once (JSON, or an HTML page for the form)',
    tags: ['auth'],
    access: 'public',
    body: z.object({ token: tokenSchema }),
    responses: { 201: json('The new key; store it now', issuedKeySchema), 200: html('Page showing the new key (form requests)'), 404: html('Unknown link'), 410: html('Link used or expired') },
    handler: async ({ body, req, res }) => {
      if (fromForm(req)) {
        return withErrorPage(res, async (nonce) => ({ status: 200, html: keyPage(await useCases.redeemMagicLink(body.token), nonce) }));
      }
      const issued = await useCases.redeemMagicLink(body.token);
      res.setHeader('Cache-Control', 'no-store');
      return { status: 201, body: { ...issued, expiresAt: issued.expiresAt?.toISOString() ?? null } };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'get',
    path: '/auth/keys',
    summary: "The caller's API keys, never their secrets",
    tags: ['auth'],
    access: 'any',
    responses: { 200: json('Keys, newest first', z.object({ keys: z.array(keySummarySchema) })) },
    handler: async ({ principal }) => {
      const keys = await useCases.listKeys(principalOf(principal));
      return { status: 200, body: { keys } };
    },
  });

  defineRoute(router, registry, authenticator, {
    method: 'post',
    path: '/auth/revoke',
    summary: "Revokes one of the caller's keys, at once on every API instance",
    tags: ['auth'],
    access: 'any',
    body: z.object({ keyId: z.string().regex(KEY_ID_PATTERN, 'must be a 16-character key id') }),
    responses: { 200: json('The revoked key', keySummarySchema), 404: json('No such key of yours', z.object({})) },
    handler: async ({ body, principal }) => {
      const key = await useCases.revokeKey(principalOf(principal), body.keyId);
      return { status: 200, body: key };
    },
  });
}
