import { InvalidDsrEventError } from './errors.ts';
import type { DsrEvent } from './erasure.ts';

const DECIMAL_INT64 = /^-?(0|[1-9][0-9]{0,18})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isMpid(value: unknown): value is string {
  if (typeof value !== 'string' || !DECIMAL_INT64.test(value)) return false;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const timestamp = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * What is wrong with a record of the DSR topic, each problem with its JSON path; empty when it is a
 * request or a completion event. Anyone may produce to the topic, so nothing is assumed of its records:
 * an erasure must name exactly one target, and a malformed one is dead-lettered, never dropped silently.
 */
export function dsrEventProblems(value: unknown): Array<{ path: string; message: string }> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ path: '$', message: 'expected a JSON object (a DSR request or completion event)' }];
  const e = value as Record<string, unknown>;
  const problems: Array<{ path: string; message: string }> = [];
  if (!nonEmpty(e.request_id)) problems.push({ path: '$.request_id', message: 'expected a non-empty string' });
  if (!nonEmpty(e.workspace_id)) problems.push({ path: '$.workspace_id', message: 'expected a non-empty string' });
  if (e.kind === 'requested') {
    if (!timestamp(e.requested_ms)) problems.push({ path: '$.requested_ms', message: 'expected epoch milliseconds' });
    const target = e.target;
    if (typeof target !== 'object' || target === null || Array.isArray(target)) {
      problems.push({ path: '$.target', message: 'expected { "mpid" } or { "identity": { "type", "value" } }' });
    } else {
      const t = target as Record<string, unknown>;
      const hasMpid = Object.hasOwn(t, 'mpid');
      const hasIdentity = Object.hasOwn(t, 'identity');
      if (hasMpid === hasIdentity) problems.push({ path: '$.target', message: 'expected exactly one of "mpid" or "identity"' });
      else if (hasMpid && !isMpid(t.mpid)) problems.push({ path: '$.target.mpid', message: 'expected a signed 64-bit integer as a decimal string' });
      else if (hasIdentity) {
        const id = t.identity as Record<string, unknown> | null;
        if (typeof id !== 'object' || id === null || !nonEmpty(id.type) || !nonEmpty(id.value)) problems.push({ path: '$.target.identity', message: 'expected { "type", "value" }, both non-empty strings' });
      }
    }
  } else if (e.kind === 'completed') {
    if (!timestamp(e.completed_ms)) problems.push({ path: '$.completed_ms', message: 'expected epoch milliseconds' });
    if (e.result !== 'erased' && e.result !== 'not_found') problems.push({ path: '$.result', message: 'expected "erased" or "not_found"' });
  } else {
    problems.push({ path: '$.kind', message: 'expected "requested" or "completed"' });
  }
  return problems;
}

/** The event, checked; throws `InvalidDsrEventError` (dead-lettered by the runtime with its code) otherwise. */
export function checkedDsrEvent(value: unknown): DsrEvent {
  const problems = dsrEventProblems(value);
  if (problems.length > 0) throw new InvalidDsrEventError(problems);
  return value as DsrEvent;
}
