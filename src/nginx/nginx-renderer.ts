/**
 * Pure renderer of Nginx configuration from the Handlebars templates in
 * nginx-templates/. Templates are compiled once, with HTML escaping off
 * (`noEscape`: `&` or `'` escaped to entities would corrupt Nginx syntax) and
 * `strict` (a missing value throws instead of rendering as empty). Because
 * nothing is escaped, every value is validated before rendering.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PROJECT_ROOT } from '../version.js';
import { validateSettings, validateSite, type RenderSettings, type SiteSpec } from './site-spec.js';

export const DEFAULT_TEMPLATES_DIR = join(PROJECT_ROOT, 'nginx-templates');

export interface NginxRenderer {
  /** The file shared by every site (WebSocket map, hash sizes). */
  renderCommon(): string;
  /** One site's file; throws InvalidSiteValueError before rendering anything unsafe. */
  renderSite(site: SiteSpec, settings: RenderSettings): string;
}

function listenPort(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function createNginxRenderer(templatesDir: string = DEFAULT_TEMPLATES_DIR): NginxRenderer {
  const handlebars = Handlebars.create();
  const read = (name: string) => readFileSync(join(templatesDir, name), 'utf8');
  const options = { noEscape: true, strict: true } as const;
  handlebars.registerPartial('proxy', handlebars.compile(read('proxy.hbs'), options));
  handlebars.registerPartial('tls-profile', handlebars.compile(read('tls-profile.hbs'), options));
  const site = handlebars.compile(read('site.conf.hbs'), options);
  const common = handlebars.compile(read('common.conf.hbs'), options);

  return {
    renderCommon: () => common({}),
    renderSite(spec, settings) {
      validateSite(spec);
      validateSettings(settings);
      const httpsPort = listenPort(settings.httpsListen);
      return site({
        id: spec.id,
        hostname: spec.hostname,
        upstreamName: `runway_${spec.id.replace(/-/g, '_')}`,
        upstreams: spec.upstreams.map((upstream) => ({ address: formatAddress(upstream.host, upstream.port) })),
        tls: spec.tls ?? false,
        listen: { http: settings.httpListen, https: settings.httpsListen },
        acmeWebroot: settings.acmeWebroot,
        httpsPortSuffix: httpsPort === 443 ? '' : `:${httpsPort}`,
      });
    },
  };
}
