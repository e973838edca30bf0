import { describe, expect, it } from 'vitest';
import { hostnameProblem } from '../../src/core/domains/hostname.js';
import { createNginxRenderer } from '../../src/nginx/nginx-renderer.js';
import { InvalidSiteValueError, type RenderSettings, type SiteSpec } from '../../src/nginx/site-spec.js';

const renderer = createNginxRenderer();
const settings: RenderSettings = { httpListen: '80', httpsListen: '443', acmeWebroot: '/var/www/runway-acme' };
const site: SiteSpec = {
  id: 'dom_123',
  hostname: 'shop.example.com',
  upstreams: [
    { host: '172.18.0.3', port: 8080 },
    { host: '172.18.0.4', port: 8080 },
  ],
};

describe('nginx renderer', () => {
  it('renders the shared file', () => {
    expect(renderer.renderCommon()).toMatchSnapshot();
  });

  it('renders an HTTP-only site before a certificate exists (challenge served, app proxied)', () => {
    expect(renderer.renderSite(site, settings)).toMatchSnapshot();
  });

  it('renders HTTPS with the TLS profile and an HTTP redirect once a certificate exists', () => {
    const output = renderer.renderSite(
      { ...site, tls: { certificatePath: '/var/lib/runway/certs/shop.example.com.crt', keyPath: '/var/lib/runway/certs/shop.example.com.key' } },
      settings,
    );
    expect(output).toMatchSnapshot();
    expect(output).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(output).toContain('return 301 https://$host$request_uri;');
    expect(output).toContain('proxy_set_header Upgrade $http_upgrade;');
  });

  it('answers 503 when no task is reachable, and keeps non-default ports in the redirect', () => {
    const output = renderer.renderSite(
      { ...site, upstreams: [], tls: { certificatePath: '/c/a.crt', keyPath: '/c/a.key' } },
      { ...settings, httpListen: '127.0.0.1:18080', httpsListen: '127.0.0.1:18443' },
    );
    expect(output).not.toContain('upstream ');
    expect(output).toContain('return 503');
    expect(output).toContain('return 301 https://$host:18443$request_uri;');
    expect(output).toContain('listen 127.0.0.1:18443 ssl http2;');
  });

  it.each([
    ['hostname', { hostname: 'evil.com; include /etc/passwd' }],
    ['hostname', { hostname: 'a.com}\nserver{' }],
    ['hostname', { hostname: '*.example.com' }],
    ['hostname', { hostname: '10.0.0.1' }],
    ['id', { id: 'x y' }],
    ['upstreams[0]', { upstreams: [{ host: '1.2.3.4;', port: 80 }] }],
    ['upstreams[0]', { upstreams: [{ host: '1.2.3.4', port: 70000 }] }],
    ['tls.certificatePath', { tls: { certificatePath: '/etc/x.crt;\nssl off', keyPath: '/k' } }],
    ['tls.keyPath', { tls: { certificatePath: '/a.crt', keyPath: '/a/../../etc/shadow' } }],
  ] as [string, Partial<SiteSpec>][])('refuses to render an unsafe %s', (field, override) => {
    let thrown: unknown;
    try {
      renderer.renderSite({ ...site, ...override }, settings);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidSiteValueError);
    expect((thrown as InvalidSiteValueError).field).toBe(field);
  });

  it('refuses unsafe settings', () => {
    expect(() => renderer.renderSite(site, { ...settings, httpListen: '80; return 200' })).toThrow(InvalidSiteValueError);
    expect(() => renderer.renderSite(site, { ...settings, acmeWebroot: 'relative/dir' })).toThrow(InvalidSiteValueError);
  });
});

describe('hostname rules', () => {
  it.each(['app.example.com', 'a.b', 'xn--bcher-kva.example', `${'a'.repeat(63)}.com`, 'app.test'])('accepts %s', (name) => {
    expect(hostnameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['localhost', 'at least two labels'],
    ['*.example.com', 'wildcard'],
    ['192.168.1.1', 'IP address'],
    ['::1', 'IP address'],
    ['App.Example.com', 'lowercase'],
    ['example.com.', 'end with a dot'],
    ['a..com', 'empty label'],
    ['-a.com', 'invalid label'],
    ['a-.com', 'invalid label'],
    ['a_b.com', 'invalid label'],
    [`${'a'.repeat(64)}.com`, 'invalid label'],
    [`${'a.'.repeat(127)}com`, 'longer than 253'],
    ['example.123', 'all-numeric'],
  ])('rejects %j (%s)', (name, problem) => {
    expect(hostnameProblem(name)).toContain(problem);
  });
});
