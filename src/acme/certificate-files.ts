/**
 * Certificate chain and private key files Nginx reads. The key is written
 * with mode 0600 (never world-readable) and never logged.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../nginx/site-applier.js';
import { checkPath } from '../nginx/site-spec.js';

export interface CertificatePaths {
  certificatePath: string;
  keyPath: string;
}

export class CertificateFiles {
  constructor(private readonly dir: string) {}

  paths(hostname: string): CertificatePaths {
    const paths = { certificatePath: join(this.dir, `${hostname}.crt`), keyPath: join(this.dir, `${hostname}.key`) };
    checkPath('certificatePath', paths.certificatePath);
    return paths;
  }

  async save(hostname: string, certPem: string, keyPem: string): Promise<CertificatePaths> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const paths = this.paths(hostname);
    await writeFileAtomic(paths.keyPath, keyPem, 0o600);
    await writeFileAtomic(paths.certificatePath, certPem, 0o644);
    return paths;
  }

  async remove(hostname: string): Promise<void> {
    const paths = this.paths(hostname);
    await rm(paths.keyPath, { force: true });
    await rm(paths.certificatePath, { force: true });
  }
}
