import { Pool } from 'undici';

/** Set on a forwarded request, so the receiving instance answers itself and never forwards again. */
export const FORWARDED_HEADER = 'x-profile-stream-forwarded';

export interface ForwardedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends a request on to the instance that owns the key, over a keep-alive pool per instance. */
export class Forwarder {
  private readonly pools = new Map<string, Pool>();

  private pool(applicationServer: string): Pool {
    let pool = this.pools.get(applicationServer);
    if (!pool) {
      pool = new Pool(`http://${applicationServer}`, { connections: 16, keepAliveTimeout: 30_000, connectTimeout: 2_000 });
      this.pools.set(applicationServer, pool);
    }
    return pool;
  }

  /** Tries twice (the owner may be restarting); throws when it cannot be reached. */
  async forward(applicationServer: string, request: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }): Promise<ForwardedResponse> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await this.pool(applicationServer).request({
          method: request.method,
          path: request.path,
          headers: { ...request.headers, [FORWARDED_HEADER]: '1' },
          body: request.body ?? null,
          headersTimeout: 5_000,
          bodyTimeout: 5_000,
        });
        const body = await res.body.text();
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
        return { statusCode: res.statusCode, headers, body };
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw lastError;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
