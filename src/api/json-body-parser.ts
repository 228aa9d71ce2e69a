import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * The deepest nesting of arrays and objects in JSON text, stopping as soon as it passes `limit`; brackets
 * inside strings do not count. Byte-wise on UTF-8, where every byte of a multi-byte character is >= 0x80,
 * so none is taken for a bracket or a quote. Run before `JSON.parse` so a hostile body is refused without
 * building it: the parse itself would succeed, but every recursive walk after it (validation,
 * `JSON.stringify`, Avro encoding) would overflow the stack.
 */
export function nestingDepthExceeds(body: Buffer, limit: number): boolean {
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
      if (++depth > limit) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
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
 * `maxDepth` deep, and valid JSON. Each failure is a 400 with its own code.
 *
 * Keys named `__proto__` or `constructor` are kept as plain own keys (what `JSON.parse` does): attribute
 * names are data (DESIGN.md), and the schema layer copies them into null-prototype objects. Nothing here
 * assigns a parsed key onto an existing object, which is what prototype pollution needs.
 */
export function installJsonBodyParser(app: FastifyInstance, options: { maxDepth: number }): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(new ApiError('PS_ERR_API_INVALID_JSON', 'the body is empty: send a JSON value'), undefined);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return done(new ApiError('PS_ERR_API_INVALID_JSON', 'the body is not valid UTF-8: JSON bodies must be UTF-8 encoded'), undefined);
    }
    if (nestingDepthExceeds(bytes, options.maxDepth)) {
      return done(new ApiError('PS_ERR_API_BODY_TOO_DEEP', `the JSON body nests arrays and objects more than ${options.maxDepth} levels deep`), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ApiError('PS_ERR_API_INVALID_JSON', `the body is not valid JSON${positionOf(error as Error)}`), undefined);
    }
  });
}
