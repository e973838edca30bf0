/**
 * Nginx's Runway sites are a projection of the Domain table: this renders
 * every site from the database and the current task addresses, and applies
 * only what changed (nothing is checked or reloaded when nothing did). Files
 * of removed domains and their certificates go away here too.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateFiles } from '../../acme/certificate-files.js';
import type { Database } from '../../db/prisma.js';
import type { Logger } from '../../logging/logger.js';
import type { NginxRenderer } from '../../nginx/nginx-renderer.js';
import { NginxConfigRejectedError, type ApplyResult, type SiteApplier, type SiteFileChange } from '../../nginx/site-applier.js';
import { COMMON_FILE_NAME, siteFileName, type RenderSettings, type SiteSpec } from '../../nginx/site-spec.js';
import type { UpstreamResolver } from '../../nginx/task-upstreams.js';

export interface RouteSyncDeps {
  db: Database;
  renderer: NginxRenderer;
  applier: SiteApplier;
  resolver: UpstreamResolver;
  certFiles: CertificateFiles;
  certsDir: string;
  settings: RenderSettings;
  logger: Logger;
}

export interface SyncResult extends ApplyResult {
  /** Files nginx rejected when applied one by one; their previous version stays live. */
  rejected: { fileName: string; error: string }[];
}

export class RouteSync {
  /**
   * Render and apply as one step, one at a time: a sync that rendered before a
   * certificate was saved must not apply after one that rendered it.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RouteSyncDeps) {}

  /** The desired content of every Runway file. */
  async render(): Promise<Map<string, string>> {
    const { db, renderer, resolver, certFiles, settings, logger } = this.deps;
    const domains = await db.domain.findMany({
      orderBy: { hostname: 'asc' },
      include: { service: { select: { swarmName: true } }, certificate: { select: { certPem: true, keyPath: true } } },
    });
    const addresses = await resolver.resolve([...new Set(domains.map((domain) => domain.service.swarmName))]);
    const files = new Map<string, string>([[COMMON_FILE_NAME, renderer.renderCommon()]]);
    for (const domain of domains) {
      const hasCertificate = Boolean(domain.certificate?.certPem && domain.certificate.keyPath);
      const site: SiteSpec = {
        id: domain.id,
        hostname: domain.hostname,
        upstreams: (addresses.get(domain.service.swarmName) ?? []).map((host) => ({ host, port: domain.port })),
        tls: hasCertificate ? certFiles.paths(domain.hostname) : undefined,
      };
      try {
        files.set(siteFileName(domain.hostname), renderer.renderSite(site, settings));
      } catch (error) {
        // One bad row must not block every other site; it is left out and reported.
        logger.error({ err: error, domainId: domain.id }, 'site not rendered');
      }
    }
    return files;
  }

  /** Renders and applies; a rejected batch is retried file by file so one bad site cannot block the rest. */
  sync(): Promise<SyncResult> {
    const run = this.queue.then(() => this.syncNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async syncNow(): Promise<SyncResult> {
    const desired = await this.render();
    const changes: SiteFileChange[] = [...desired].map(([fileName, content]) => ({ fileName, content }));
    for (const fileName of await this.deps.applier.listManagedFiles()) {
      if (!desired.has(fileName)) changes.push({ fileName, content: null });
    }
    const result = await this.applyWithFallback(changes);
    await this.pruneCertificates(desired);
    return result;
  }

  /** Re-reads certificate files that changed in place (renewals) without a config change. */
  async reload(): Promise<void> {
    await this.deps.applier.checkAndReload();
  }

  private async applyWithFallback(changes: SiteFileChange[]): Promise<SyncResult> {
    try {
      return { ...(await this.deps.applier.apply(changes)), rejected: [] };
    } catch (error) {
      if (!(error instanceof NginxConfigRejectedError)) throw error;
      this.deps.logger.warn({ error: error.output }, 'nginx rejected the batch; applying sites one by one');
    }
    const result: SyncResult = { changed: [], rejected: [] };
    for (const change of changes) {
      try {
        result.changed.push(...(await this.deps.applier.apply([change])).changed);
      } catch (error) {
        if (!(error instanceof NginxConfigRejectedError)) throw error;
        result.rejected.push({ fileName: change.fileName, error: error.output });
      }
    }
    return result;
  }

  /** Certificate files of hostnames no longer routed. */
  private async pruneCertificates(desired: Map<string, string>): Promise<void> {
    const names = await readdir(this.deps.certsDir).catch(() => [] as string[]);
    for (const name of names) {
      const hostname = name.replace(/\.(crt|key)$/, '');
      if (hostname === name || desired.has(`rw-${hostname}.conf`)) continue;
      await rm(join(this.deps.certsDir, name), { force: true });
    }
  }
}
