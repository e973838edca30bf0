/**
 * The one wrapper around acme-client (STYLE.md example 8): a persistent
 * account, then order, HTTP-01 challenge, finalize, download. Every failure
 * leaves as an AcmeFailure whose reason a person can act on.
 */
import { get as httpGet } from 'node:http';
import { Agent, get as httpsGet } from 'node:https';
import * as acme from 'acme-client';
import type { Logger } from '../logging/logger.js';
import { AcmeFailure, reasonForProblem, toAcmeFailure } from './acme-failure.js';
import type { AcmeAccountStore } from './acme-account-store.js';
import type { Http01Webroot } from './http01-webroot.js';

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email?: string;
  /** PEM of an extra CA to trust for the ACME server (ACME_CA_CERT), e.g. Pebble's listener CA. */
  caCertPem?: string;
  /** How long the CA may take to validate one challenge or finalize. */
  validationTimeoutMs?: number;
}

export interface IssuedCertificate {
  /** Leaf then intermediates, as Nginx's ssl_certificate wants. */
  certPem: string;
  /** Private key PEM: callers write it to a 0600 file and never log it. */
  keyPem: string;
  issuedAt: Date;
  expiresAt: Date;
}

type Challenge = { type: string; url: string; token: string; status?: string; error?: { type?: string; detail?: string } };

export class AcmeIssuer {
  private readonly agent?: Agent;

  constructor(
    private readonly options: AcmeIssuerOptions,
    private readonly accounts: AcmeAccountStore,
    private readonly webroot: Http01Webroot,
    private readonly logger: Logger,
  ) {
    if (options.caCertPem) {
      this.agent = new Agent({ ca: options.caCertPem });
      // acme-client sends every request through its own module-level axios
      // instance; there is no per-client agent option in 5.4. One CA per process.
      acme.axios.defaults.httpsAgent = this.agent;
    }
    acme.setLogger(() => undefined);
  }

  /** Orders a certificate for one hostname over HTTP-01. */
  async issue(hostname: string): Promise<IssuedCertificate> {
    try {
      await this.checkDirectoryReachable();
      const client = await this.client();
      const order = await client.createOrder({ identifiers: [{ type: 'dns', value: hostname }] });
      for (const authz of await client.getAuthorizations(order)) {
        if (authz.status === 'valid') continue; // reused authorization (PEBBLE_AUTHZREUSE, LE's 30-day reuse)
        await this.completeHttp01(client, order, authz.challenges as Challenge[], hostname);
      }
      const [keyBuffer, csr] = await acme.crypto.createCsr({ commonName: hostname, altNames: [hostname] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const finalized = await client.finalizeOrder(order, csr);
      const certPem = await client.getCertificate(finalized);
      const info = acme.crypto.readCertificateInfo(certPem);
      return { certPem, keyPem: keyBuffer.toString(), issuedAt: info.notBefore, expiresAt: info.notAfter };
    } catch (error) {
      throw toAcmeFailure(error, this.options.directoryUrl);
    }
  }

  private async client(): Promise<acme.Client> {
    const account = await this.accounts.load(this.options.directoryUrl, this.options.email);
    const client = new acme.Client({
      directoryUrl: this.options.directoryUrl,
      accountKey: account.accountKey,
      backoffAttempts: 20,
      backoffMin: 250,
      backoffMax: 5_000,
    });
    // newAccount with a known key returns that account (RFC 8555 7.3.1), and
    // registers it again if the CA lost it (a test CA restarted): one request
    // per order buys never failing on a stale account URL.
    // For a known account acme-client then sends an update with the same fields;
    // an explicit (possibly empty) contact list keeps that update from being
    // "empty", which CAs refuse.
    await client.createAccount({
      termsOfServiceAgreed: true,
      contact: this.options.email ? [`mailto:${this.options.email}`] : [],
    });
    if (client.getAccountUrl() !== account.accountUrl) await this.accounts.saveUrl(account.id, client.getAccountUrl());
    return client;
  }

  private async completeHttp01(client: acme.Client, order: acme.Order, challenges: Challenge[], hostname: string): Promise<void> {
    const challenge = challenges.find((candidate) => candidate.type === 'http-01');
    if (!challenge) throw new AcmeFailure('CA_REFUSED', `the CA offered no HTTP-01 challenge for ${hostname}`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge as never);
    await this.webroot.put(challenge.token, keyAuthorization);
    try {
      await client.completeChallenge(challenge as never);
      await client.waitForValidStatus(challenge as never);
    } catch (error) {
      throw await this.explainChallengeFailure(client, order, hostname, error);
    } finally {
      await this.webroot.remove(challenge.token).catch(() => undefined);
    }
  }

  /** acme-client's message drops the problem type; read the authorization again to get it. */
  private async explainChallengeFailure(client: acme.Client, order: acme.Order, hostname: string, error: unknown): Promise<AcmeFailure> {
    try {
      for (const authz of await client.getAuthorizations(order)) {
        const problem = (authz.challenges as Challenge[]).find((candidate) => candidate.error)?.error;
        if (problem) {
          return new AcmeFailure(reasonForProblem(problem.type, problem.detail), `validating ${hostname}: ${problem.detail ?? problem.type}`, { cause: error });
        }
      }
    } catch (lookupError) {
      this.logger.debug({ err: lookupError }, 'could not re-read the failed authorization');
    }
    return toAcmeFailure(error, this.options.directoryUrl);
  }

  /**
   * Fetches the directory once with a short timeout: when the CA is unreachable
   * or untrusted, acme-client would retry for ~75 s and then lose the cause.
   */
  private checkDirectoryReachable(): Promise<void> {
    const url = this.options.directoryUrl;
    return new Promise((resolve, reject) => {
      const get = url.startsWith('https:') ? httpsGet : httpGet;
      const request = get(url, { agent: url.startsWith('https:') ? this.agent : undefined, timeout: 10_000 }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 400) resolve();
        else reject(new AcmeFailure('CA_UNREACHABLE', `the ACME directory ${url} answered HTTP ${status}`));
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timed out after 10 s'), { code: 'ETIMEDOUT' })));
      request.on('error', (error) => reject(toAcmeFailure(error, url)));
    });
  }
}
