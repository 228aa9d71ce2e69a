import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** How far a signed request's `Date` may be from this server's clock: a captured request stops working after it. */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

/** The three headers of mParticle's HMAC request signing, when the request carries a signature. */
export interface SignedHeaders {
  readonly key: string;
  readonly date: string;
  readonly signature: string;
}

export function signedHeaders(request: FastifyRequest): SignedHeaders | 'incomplete' | undefined {
  const signature = request.headers['x-mp-signature'];
  const key = request.headers['x-mp-key'];
  if (signature === undefined && key === undefined) return undefined;
  const date = request.headers.date;
  if (typeof signature !== 'string' || typeof key !== 'string' || typeof date !== 'string' || !signature || !key || !date) return 'incomplete';
  return { key, date, signature };
}

/**
 * The `Date` header as epoch ms: ISO 8601 basic (`20170712T224127Z`, what mParticle's docs show), ISO 8601
 * extended (`2017-07-12T22:41:27Z`) or an HTTP date (`Wed, 12 Jul 2017 22:41:27 GMT`); undefined otherwise.
 */
export function signatureDateMs(date: string): number | undefined {
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (basic) {
    const [, y, mo, d, h, mi, s] = basic.map(Number) as [number, number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi, s);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(date) && !/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(date)) return undefined;
  const ms = Date.parse(date);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * mParticle's request signature: hex HMAC-SHA256, keyed with the UTF-8 bytes of the key's secret, of
 * `METHOD \n Date \n path-with-query + body` (the body's bytes as sent; nothing for a request without one).
 */
export function requestSignature(secret: string, method: string, date: string, pathAndQuery: string, body: Buffer | undefined): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${method.toUpperCase()}\n${date}\n${pathAndQuery}`, 'utf8');
  if (body) mac.update(body);
  return mac.digest('hex');
}

/** Constant-time comparison of a presented signature (hex, any case) with the expected one. */
export function signatureMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented.toLowerCase(), 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
