/**
 * What one Runway site file says, and the checks every value passes before it
 * reaches a template. Templates render with `noEscape`, so these checks are
 * the only thing standing between a value and Nginx syntax.
 */
import { isIP } from 'node:net';
import { hostnameProblem } from '../core/domains/hostname.js';

export interface SiteUpstream {
  /** IPv4/IPv6 literal or a DNS name Nginx can resolve. */
  host: string;
  port: number;
}

export interface SiteSpec {
  /** Domain id; names the upstream block. */
  id: string;
  hostname: string;
  /** Where requests go; empty renders a 503 until a task is reachable. */
  upstreams: SiteUpstream[];
  /** Present once a certificate exists: adds the HTTPS server and the redirect. */
  tls?: { certificatePath: string; keyPath: string };
}

/** Settings shared by every site of one Nginx. */
export interface RenderSettings {
  /** `listen` value of the HTTP servers: a port or address:port. */
  httpListen: string;
  /** `listen` value of the HTTPS servers. */
  httpsListen: string;
  /** Directory that holds `.well-known/acme-challenge/`. */
  acmeWebroot: string;
}

export class InvalidSiteValueError extends Error {
  readonly code = 'INVALID_SITE_VALUE';
  constructor(readonly field: string, readonly problem: string) {
    super(`Refusing to render ${field}: ${problem}`);
    this.name = 'InvalidSiteValueError';
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]{0,1000}$/;
const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9_.-]{0,253}[a-z0-9])?$/i;
const LISTEN = /^(?:(?:\d{1,3}\.){3}\d{1,3}:|\[[0-9a-fA-F:]+\]:)?(\d{1,5})$/;

function fail(field: string, problem: string): never {
  throw new InvalidSiteValueError(field, problem);
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(field, `port ${String(port)} is not 1-65535`);
}

export function checkPath(field: string, path: string): void {
  if (!SAFE_PATH.test(path) || path.split('/').includes('..')) fail(field, `"${path}" is not a plain absolute path`);
}

function checkListen(field: string, listen: string): void {
  const match = LISTEN.exec(listen);
  if (!match) fail(field, `"${listen}" is not a port or address:port`);
  const hostPart = listen.length > match[1]!.length ? listen.slice(0, listen.length - match[1]!.length - 1) : '';
  const host = hostPart.replace(/^\[|\]$/g, '');
  if (host && isIP(host) === 0) fail(field, `"${host}" is not an IP address`);
  checkPort(field, Number(match[1]));
}

function checkUpstream(field: string, upstream: SiteUpstream): void {
  const host = upstream.host;
  if (isIP(host) === 0 && !SERVICE_NAME.test(host)) fail(field, `"${host}" is neither an IP address nor a service name`);
  checkPort(field, upstream.port);
}

/** Throws InvalidSiteValueError naming the first value that may not be rendered. */
export function validateSite(site: SiteSpec): void {
  if (!ID.test(site.id)) fail('id', `"${site.id}" is not an id`);
  const problem = hostnameProblem(site.hostname);
  if (problem) fail('hostname', `"${site.hostname}" ${problem}`);
  site.upstreams.forEach((upstream, index) => checkUpstream(`upstreams[${index}]`, upstream));
  if (site.tls) {
    checkPath('tls.certificatePath', site.tls.certificatePath);
    checkPath('tls.keyPath', site.tls.keyPath);
  }
}

export function validateSettings(settings: RenderSettings): void {
  checkListen('httpListen', settings.httpListen);
  checkListen('httpsListen', settings.httpsListen);
  checkPath('acmeWebroot', settings.acmeWebroot);
}

/** The file a site lives in, inside the sites directory. */
export function siteFileName(hostname: string): string {
  const problem = hostnameProblem(hostname);
  if (problem) fail('hostname', `"${hostname}" ${problem}`);
  return `rw-${hostname}.conf`;
}

export const COMMON_FILE_NAME = 'rw-00-common.conf';

/** Whether a file in the sites directory is one Runway manages. */
export function isManagedFileName(name: string): boolean {
  return name.startsWith('rw-') && name.endsWith('.conf');
}
