/**
 * A minimal Docker Registry HTTP API v2 on loopback, speaking enough of the
 * real protocol for the engine to pull from it (127.0.0.0/8 registries are
 * plain HTTP by default). It serves one synthetic single-layer image under
 * `good` and the same manifest with a corrupted layer under `broken`, whose
 * pull fails inside the engine's 200 progress stream.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function layerTar(): Promise<Buffer> {
  const archive = pack();
  archive.entry({ name: 'rwt-marker.txt' }, `${randomBytes(16).toString('hex')}\n`);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export interface FakeRegistry {
  /** host:port of the registry. */
  host: string;
  /** A reference that pulls. */
  good: string;
  /** A reference whose layer fails verification mid-pull. */
  broken: string;
  /** Paths the engine requested (proves the pull reached the registry). */
  requests: string[];
  close(): Promise<void>;
}

interface ServedImage {
  manifest: Buffer;
  blobs: Map<string, Buffer>;
}

/** A single-layer image; with `corrupt`, the layer served does not match its digest. */
async function makeImage(corrupt: boolean): Promise<ServedImage> {
  const tar = await layerTar();
  const layer = gzipSync(tar);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, history: [{ created_by: 'rwt' }] }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
    }),
  );
  const served = Buffer.from(layer);
  if (corrupt) served[served.length - 10] = (served[served.length - 10] ?? 0) ^ 0xff;
  return { manifest, blobs: new Map([[sha256(config), config], [sha256(layer), served]]) };
}

export async function startFakeRegistry(repository: string): Promise<FakeRegistry> {
  const images: Record<string, ServedImage> = { good: await makeImage(false), broken: await makeImage(true) };
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push(`${request.method} ${path}`);
    const send = (status: number, body: Buffer, type = 'application/json', extra: Record<string, string> = {}) => {
      response.writeHead(status, { 'Content-Type': type, 'Content-Length': String(body.length), 'Docker-Distribution-API-Version': 'registry/2.0', ...extra });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    const unknown = (code: string) => send(404, Buffer.from(JSON.stringify({ errors: [{ code, message: 'unknown', detail: null }] })));
    if (path === '/v2/' || path === '/v2') return send(200, Buffer.from('{}'));
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!match || match[1] !== repository) return unknown('NAME_UNKNOWN');
    const [, , kind, reference = ''] = match;
    const all = Object.values(images);
    if (kind === 'manifests') {
      const image = images[reference] ?? all.find((candidate) => sha256(candidate.manifest) === reference);
      return image ? send(200, image.manifest, MANIFEST_TYPE, { 'Docker-Content-Digest': sha256(image.manifest) }) : unknown('MANIFEST_UNKNOWN');
    }
    const blob = all.map((image) => image.blobs.get(reference)).find(Boolean);
    return blob ? send(200, blob, 'application/octet-stream', { 'Docker-Content-Digest': reference }) : unknown('BLOB_UNKNOWN');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    good: `${host}/${repository}:good`,
    broken: `${host}/${repository}:broken`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
