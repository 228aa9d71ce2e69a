import type { RegistryEndpoint } from '../schema/subject-registration.ts';
import { AppConfigError } from './config-errors.ts';
import { certificateFileVar, isSet, secretVar } from './env-files.ts';

const REGISTRY_SECURITY_VARS = ['SCHEMA_REGISTRY_USERNAME', 'SCHEMA_REGISTRY_PASSWORD', 'SCHEMA_REGISTRY_PASSWORD_FILE', 'SCHEMA_REGISTRY_CA_FILE'];

/**
 * The schema registry endpoint: SCHEMA_REGISTRY_URL with HTTP Basic credentials (Confluent Cloud's API
 * key and secret, or any registry behind basic auth) from SCHEMA_REGISTRY_USERNAME and
 * SCHEMA_REGISTRY_PASSWORD[_FILE] or from the URL's `user:password@` (fetch refuses URLs carrying them,
 * so they are moved out), and a CA to trust for an https URL from SCHEMA_REGISTRY_CA_FILE.
 * Undefined without SCHEMA_REGISTRY_URL (the local stack's registry, which has no authentication).
 */
export function readRegistryEndpoint(env: NodeJS.ProcessEnv): RegistryEndpoint | undefined {
  const raw = env.SCHEMA_REGISTRY_URL?.trim();
  if (!raw) {
    const stray = REGISTRY_SECURITY_VARS.filter((n) => isSet(env, n));
    if (stray.length > 0) throw new AppConfigError(`${stray.join(', ')} set without SCHEMA_REGISTRY_URL: the local stack's registry has no authentication`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppConfigError(`SCHEMA_REGISTRY_URL=${raw}: not a URL (expected http(s)://host:port/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppConfigError(`SCHEMA_REGISTRY_URL=${raw}: expected an http:// or https:// URL`);
  const fromUrl = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  const shown = fromUrl ? url.toString() : raw;

  const username = env.SCHEMA_REGISTRY_USERNAME;
  const password = secretVar(env, 'SCHEMA_REGISTRY_PASSWORD');
  if (fromUrl && (username || password !== undefined)) throw new AppConfigError('SCHEMA_REGISTRY_URL carries user:password@ and SCHEMA_REGISTRY_USERNAME/PASSWORD are set: give the credentials one way');
  if (username && password === undefined) throw new AppConfigError('SCHEMA_REGISTRY_USERNAME is set without SCHEMA_REGISTRY_PASSWORD or SCHEMA_REGISTRY_PASSWORD_FILE');
  if (!username && password !== undefined) throw new AppConfigError('SCHEMA_REGISTRY_PASSWORD is set without SCHEMA_REGISTRY_USERNAME');
  const basicAuth = fromUrl ?? (username ? { username, password: password! } : undefined);

  const ca = certificateFileVar(env, 'SCHEMA_REGISTRY_CA_FILE');
  if (ca && url.protocol !== 'https:') throw new AppConfigError(`SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL=${shown} is not https://`);
  return { url: shown, ...(basicAuth ? { basicAuth } : {}), ...(ca ? { ca } : {}) };
}
