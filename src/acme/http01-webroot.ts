/**
 * HTTP-01 challenge tokens as files under the webroot Nginx serves at
 * `/.well-known/acme-challenge/` (see nginx-templates/site.conf.hbs).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class Http01Webroot {
  constructor(private readonly webroot: string) {}

  private path(token: string): string {
    // The token comes from the CA; never let it name a path outside the directory.
    if (!TOKEN.test(token)) throw new Error('ACME challenge token has unexpected characters');
    return join(this.webroot, '.well-known', 'acme-challenge', token);
  }

  async put(token: string, keyAuthorization: string): Promise<void> {
    await mkdir(join(this.webroot, '.well-known', 'acme-challenge'), { recursive: true });
    await writeFile(this.path(token), keyAuthorization, { mode: 0o644 });
  }

  async remove(token: string): Promise<void> {
    await rm(this.path(token), { force: true });
  }
}
