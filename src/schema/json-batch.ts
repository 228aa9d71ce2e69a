import type { Type } from 'avsc';
import { avroToJson } from './avro-to-json.ts';
import { avroTypeFor } from './avro-type.ts';
import { checkBatchLimits } from './batch-limits.ts';
import { IDENTITY_TYPES } from './batch.ts';
import type { Batch } from './batch.ts';
import { InvalidBatchError } from './errors.ts';
import type { BatchProblem } from './errors.ts';
import { jsonToAvro } from './json-to-avro.ts';
import type { Conversion } from './json-to-avro.ts';
import { SCHEMAS } from './schema-catalog.ts';
import { DEVICE_RESOLUTION_TYPES } from '../identity/identity-names.ts';
import { identityValueProblem, normalizeIdentities } from '../identity/identity-values.ts';

/**
 * mParticle-style JSON batches (as users POST them) to the Avro-ready `Batch`, and back.
 *
 * @example Safe: the request's workspace and source fill in what the JSON leaves out.
 * ```ts
 * const batch = fromJsonBatch(body, { workspaceId: 'ws1', source: 'web' });
 * await serde.serialize(topic, batch);
 * ```
 * @example Unsafe: `JSON.parse` then `as Batch` skips validation, defaults and MPID precision.
 * ```ts
 * const batch = JSON.parse(text) as Batch; // mpid may be a rounded number, maps keep their prototype
 * ```
 */
export type JsonBatchOptions = {
  /** Workspace the request is for; used when the JSON has no `workspace_id`, and must match it otherwise. */
  workspaceId?: string;
  /** Input source (e.g. `web`); used when the JSON has no `source`, and must match it otherwise. */
  source?: string;
};

export type ParsedJsonBatch = {
  batch: Batch;
  /** Paths of fields the schema does not know (e.g. mParticle's `api_key`); they are dropped, not errors. */
  ignoredFields: string[];
};

let batchType: Type | undefined;
const getBatchType = () => (batchType ??= avroTypeFor(SCHEMAS.batch));

/** Validates and converts; throws `InvalidBatchError` listing every problem found. */
export function parseJsonBatch(input: unknown, options: JsonBatchOptions = {}): ParsedJsonBatch {
  const problems: BatchProblem[] = [];
  let json = input;
  let sizeBytes: number;
  if (typeof input === 'string') {
    sizeBytes = Buffer.byteLength(input, 'utf8');
    try {
      json = JSON.parse(input);
    } catch (error) {
      throw new InvalidBatchError([{ path: '$', message: `is not valid JSON: ${(error as Error).message}` }]);
    }
  } else {
    sizeBytes = Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidBatchError([{ path: '$', message: 'must be a JSON object (an mParticle batch)' }]);
  }

  const withContext = { ...(json as Record<string, unknown>) };
  // mParticle's identity names (`customerid`, `other2`) become the schema's; an unknown one is a problem, never dropped.
  const given = withContext.user_identities;
  if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
    const normalized = normalizeIdentities(given, '$.user_identities', 'user');
    problems.push(...normalized.problems);
    withContext.user_identities = normalized.identities;
  }
  fillFromRequest(withContext, 'workspace_id', options.workspaceId, problems);
  fillFromRequest(withContext, 'source', options.source, problems);

  const conversion: Conversion = { problems, ignoredFields: [] };
  const batch = jsonToAvro(getBatchType(), withContext, '$', conversion) as Batch;
  if (problems.length === 0) {
    const identities = batch.user_identities;
    const device = batch.device_info;
    for (const type of DEVICE_RESOLUTION_TYPES) {
      const value = device?.[type];
      const problem = typeof value === 'string' ? identityValueProblem(value) : undefined;
      if (problem) problems.push({ path: `$.device_info.${type}`, message: problem });
    }
    if (batch.mpid === null && IDENTITY_TYPES.every((t) => identities[t] === null) && DEVICE_RESOLUTION_TYPES.every((t) => (device?.[t] ?? null) === null)) {
      problems.push({ path: '$', message: 'needs an "mpid", or at least one entry in "user_identities" or one device identity in "device_info", to know whose batch it is' });
    }
    problems.push(...checkBatchLimits(batch, sizeBytes));
  } else {
    problems.push(...limitsOfPartial(json as Record<string, unknown>, sizeBytes));
  }
  if (problems.length > 0) throw new InvalidBatchError(problems);
  return { batch, ignoredFields: conversion.ignoredFields };
}

/** `parseJsonBatch(...).batch`. */
export function fromJsonBatch(input: unknown, options: JsonBatchOptions = {}): Batch {
  return parseJsonBatch(input, options).batch;
}

/** The batch as mParticle-style JSON (null fields left out, MPID as a string). */
export function toJsonBatch(batch: Batch): Record<string, unknown> {
  return avroToJson(getBatchType(), batch) as Record<string, unknown>;
}

function fillFromRequest(json: Record<string, unknown>, field: string, fromRequest: string | undefined, problems: BatchProblem[]): void {
  if (fromRequest === undefined) return;
  const given = json[field];
  if (given === undefined || given === null) json[field] = fromRequest;
  else if (given !== fromRequest) {
    problems.push({ path: `$.${field}`, message: `is ${JSON.stringify(given)} but this request is for ${JSON.stringify(fromRequest)}: leave it out or make them match` });
  }
}

/**
 * When the batch has type problems it cannot become a `Batch`, but the sender should still hear
 * about broken limits in the same answer: check those that do not need a well-typed batch.
 */
function limitsOfPartial(json: Record<string, unknown>, sizeBytes: number): BatchProblem[] {
  const attributes = json.user_attributes;
  const userAttributes = Object.create(null);
  if (attributes && typeof attributes === 'object' && !Array.isArray(attributes)) {
    for (const key of Object.keys(attributes)) {
      const v = (attributes as Record<string, unknown>)[key];
      userAttributes[key] = typeof v === 'string' || (Array.isArray(v) && v.every((e) => typeof e === 'string')) ? v : null;
    }
  }
  return checkBatchLimits({ user_attributes: userAttributes, events: [] } as unknown as Batch, sizeBytes);
}
