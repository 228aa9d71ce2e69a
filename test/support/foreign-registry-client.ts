import { schemaRegistryUrl } from './stack-env.ts';

/**
 * Another client of the schema registry, sharing no code with profile-stream's: plain HTTP calls as any
 * producer's tooling would make, to set up subjects before profile-stream sees them.
 */
const CONTENT_TYPE = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${schemaRegistryUrl()}${path}`, { method, headers: CONTENT_TYPE, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Registers `schema` under `subject` and sets the subject's compatibility level; answers the schema id. */
export async function registerAsAnotherClient(subject: string, schema: object, compatibility: string): Promise<number> {
  const registered = await call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
  if (registered.status !== 200) throw new Error(`registering ${subject}: HTTP ${registered.status} ${JSON.stringify(registered.json)}`);
  const config = await call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
  if (config.status !== 200) throw new Error(`setting ${subject} to ${compatibility}: HTTP ${config.status} ${JSON.stringify(config.json)}`);
  return registered.json.id as number;
}

/** Registers `schema` under `subject` and sets nothing else: what a subject nobody configured looks like. */
export async function registerOnlyAsAnotherClient(subject: string, schema: object): Promise<number> {
  const registered = await call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
  if (registered.status !== 200) throw new Error(`registering ${subject}: HTTP ${registered.status} ${JSON.stringify(registered.json)}`);
  return registered.json.id as number;
}

export async function compatibilityOf(subject: string): Promise<unknown> {
  return (await call('GET', `/config/${encodeURIComponent(subject)}`)).json.compatibilityLevel;
}

export async function versionsOf(subject: string): Promise<number[]> {
  const res = await call('GET', `/subjects/${encodeURIComponent(subject)}/versions`);
  return res.status === 200 ? (res.json as unknown as number[]) : [];
}

/** Removes a subject this test created (soft, then permanent delete). */
export async function deleteSubject(subject: string): Promise<void> {
  await call('DELETE', `/subjects/${encodeURIComponent(subject)}`);
  await call('DELETE', `/subjects/${encodeURIComponent(subject)}?permanent=true`);
}

/** A record schema unrelated to profile-stream's, for subjects where ours must be refused or added. */
export const OTHER_SCHEMA = { type: 'record', name: 'OtherTeamEvent', namespace: 'com.example', fields: [{ name: 'x', type: 'int' }] };
