import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy that asks for HTTP Basic credentials and serves TLS, in front of the real (shared)
 * registry, the way deployments put a registry behind an authenticating gateway: the local stack's
 * Apicurio offers no basic auth of its own without an identity server.
 */
export async function startRegistryProxy(options: { upstream: string; keystore: { file: string; password: string }; username: string; password: string }): Promise<{ url: (path: string) => string; counts: { allowed: number; refused: number }; close(): Promise<void> }> {
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const origin = new URL(options.upstream).origin;
  const counts = { allowed: 0, refused: 0 };
  const server: Server = createServer({ pfx: readFileSync(options.keystore.file), passphrase: options.keystore.password }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization !== expected) {
        counts.refused++;
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="registry"' });
        res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
        return;
      }
      counts.allowed++;
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'accept']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name] as string;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${origin}${req.url}`, { method: req.method ?? 'GET', headers, ...(body && req.method !== 'GET' ? { body } : {}) })
        .then(async (up) => {
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await up.arrayBuffer()));
        })
        .catch((error: Error) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error_code: 502, message: error.message }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const path = new URL(options.upstream).pathname.replace(/\/+$/, '');
  return {
    url: (suffix = '') => `https://127.0.0.1:${port}${path}${suffix}`,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
