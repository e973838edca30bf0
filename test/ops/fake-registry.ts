import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry speaking the Docker Registry HTTP API v2 push flow (the part the
 * Docker engine uses to push): GET /v2/ with Basic auth, blob HEAD, upload
 * POST/PATCH/PUT with digest check, manifest PUT/HEAD/GET. Enough for the real
 * engine to push to it on loopback (127.0.0.0/8 is an insecure registry by default).
 */
export interface FakeRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  manifests: Map<string, { contentType: string; body: Buffer }>;
  blobs: Map<string, Buffer>;
  close(): Promise<void>;
}

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeRegistry(credentials: { username: string; password: string }): Promise<FakeRegistry> {
  const manifests = new Map<string, { contentType: string; body: Buffer }>();
  const blobs = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer>();
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    const path = url.pathname;
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake-registry"', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (path === '/v2/' || path === '/v2') return void res.writeHead(200).end('{}');
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(path);
    if (upload) {
      const [, name, id] = upload;
      if (req.method === 'POST') {
        const uuid = randomUUID();
        uploads.set(uuid, Buffer.alloc(0));
        res.writeHead(202, { Location: `/v2/${name}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid, Range: '0-0', 'Content-Length': '0' });
        return void res.end();
      }
      const data = Buffer.concat([uploads.get(id!) ?? Buffer.alloc(0), await readBody(req)]);
      uploads.set(id!, data);
      if (req.method === 'PATCH') {
        res.writeHead(202, { Location: `/v2/${name}/blobs/uploads/${id}`, 'Docker-Upload-UUID': id!, Range: `0-${Math.max(0, data.length - 1)}`, 'Content-Length': '0' });
        return void res.end();
      }
      const digest = url.searchParams.get('digest') ?? '';
      if (digestOf(data) !== digest) return void res.writeHead(400).end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID' }] }));
      blobs.set(digest, data);
      uploads.delete(id!);
      res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
      return void res.end();
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path);
    if (blob) {
      const data = blobs.get(blob[2]!);
      if (!data) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': String(data.length), 'Docker-Content-Digest': blob[2]! });
      return void res.end(req.method === 'HEAD' ? undefined : data);
    }
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (manifest) {
      const key = `${manifest[1]}:${manifest[2]}`;
      if (req.method === 'PUT') {
        const body = await readBody(req);
        const digest = digestOf(body);
        manifests.set(key, { contentType: req.headers['content-type'] ?? '', body });
        manifests.set(`${manifest[1]}:${digest}`, { contentType: req.headers['content-type'] ?? '', body });
        res.writeHead(201, { Location: `/v2/${manifest[1]}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
        return void res.end();
      }
      const stored = manifests.get(key);
      if (!stored) return void res.writeHead(404).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }));
      res.writeHead(200, { 'Content-Type': stored.contentType, 'Docker-Content-Digest': digestOf(stored.body), 'Content-Length': String(stored.body.length) });
      return void res.end(req.method === 'HEAD' ? undefined : stored.body);
    }
    res.writeHead(404).end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    manifests,
    blobs,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
