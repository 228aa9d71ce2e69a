import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';
import { rememberRawBody } from './raw-body.ts';

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

const MINUS = 0x2d; // -
const ZERO = 0x30;
const NINE = 0x39;

/** What a scan of JSON text found that JSON.parse would accept but must not be: undefined when nothing. */
export type JsonTextProblem = { readonly kind: 'too_deep' } | { readonly kind: 'unsafe_number'; readonly at: number; readonly literal: string };

function isNumberByte(c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45; // digits - + . e E
}

/**
 * One pass over JSON text, before `JSON.parse`, outside strings only (byte-wise on UTF-8, where every
 * byte of a multi-byte character is >= 0x80, so none is taken for a bracket, quote or digit):
 * - nesting of arrays and objects deeper than `maxDepth`, stopping as soon as it passes: the parse itself
 *   would succeed, but every recursive walk after it (validation, `JSON.stringify`, Avro) overflows the stack;
 * - a number whose value is not finite or is an integer beyond ±(2^53 − 1): `JSON.parse` would round it
 *   silently, and a rounded 64-bit id (coerced to a string by a route's schema) names another user.
 */
export function inspectJsonText(body: Buffer, maxDepth: number): JsonTextProblem | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return { kind: 'too_deep' };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      let end = i + 1;
      let exponent = false;
      while (end < body.length && isNumberByte(body[end]!)) {
        if (body[end] === 0x65 || body[end] === 0x45) exponent = true;
        end++;
      }
      // Without an exponent, up to 15 characters every integer is exact and every float finite.
      if (exponent || end - i > 15) {
        const literal = body.toString('latin1', i, end);
        const value = Number(literal);
        if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value))) return { kind: 'unsafe_number', at: i, literal };
      }
      i = end - 1;
    }
  }
  return undefined;
}

/** Whether JSON text nests arrays and objects deeper than `limit` (see `inspectJsonText`). */
export function nestingDepthExceeds(body: Buffer, limit: number): boolean {
  return inspectJsonText(body, limit)?.kind === 'too_deep';
}

/** Where `JSON.parse` stopped, from V8's message ("... at position 12 (line 1 column 13)"). */
function positionOf(error: Error): string {
  const match = /position (\d+)/.exec(error.message);
  return match ? ` at byte ${match[1]}` : '';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Replaces fastify's JSON parser on `app` (call it on the root instance so every route gets it): the body
 * must be UTF-8 (invalid bytes are refused, never replaced with U+FFFD and stored), nested at most
 * `maxDepth` deep, without numbers JSON.parse would round (`inspectJsonText`), and valid JSON. Each failure is a 400 with its own code.
 *
 * Keys named `__proto__` or `constructor` are kept as plain own keys (what `JSON.parse` does): attribute
 * names are data (DESIGN.md), and the schema layer copies them into null-prototype objects. Nothing here
 * assigns a parsed key onto an existing object, which is what prototype pollution needs.
 */
export function installJsonBodyParser(app: FastifyInstance, options: { maxDepth: number }): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    rememberRawBody(request, bytes);
    if (bytes.length === 0) return done(new ApiError('PS_ERR_API_INVALID_JSON', 'the body is empty: send a JSON value'), undefined);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return done(new ApiError('PS_ERR_API_INVALID_JSON', 'the body is not valid UTF-8: JSON bodies must be UTF-8 encoded'), undefined);
    }
    const problem = inspectJsonText(bytes, options.maxDepth);
    if (problem?.kind === 'too_deep') {
      return done(new ApiError('PS_ERR_API_BODY_TOO_DEEP', `the JSON body nests arrays and objects more than ${options.maxDepth} levels deep`), undefined);
    }
    if (problem?.kind === 'unsafe_number') {
      const shown = problem.literal.length > 40 ? `${problem.literal.slice(0, 40)}...` : problem.literal;
      return done(new ApiError('PS_ERR_API_UNSAFE_NUMBER', `the number ${shown} at byte ${problem.at} cannot be read exactly (beyond ±2^53 − 1, or not finite): send 64-bit ids and large values as strings`), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ApiError('PS_ERR_API_INVALID_JSON', `the body is not valid JSON${positionOf(error as Error)}`), undefined);
    }
  });
}
