import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppConfigError } from './config-errors.ts';

/** Set and not empty: an empty variable counts as unset, as everywhere else in the environment. */
export function isSet(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name] !== undefined && env[name] !== '';
}

function readVarFile(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppConfigError(`${name}=${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}

/**
 * A secret from `NAME` or from the file `NAME_FILE` names (Docker and Kubernetes secrets are files), never
 * both. A file's trailing newline is not part of the secret. Undefined when neither is set.
 */
export function secretVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const fileVar = `${name}_FILE`;
  if (isSet(env, name) && isSet(env, fileVar)) throw new AppConfigError(`${name} and ${fileVar} are both set: set one`);
  if (isSet(env, name)) return env[name]!;
  if (!isSet(env, fileVar)) return undefined;
  const value = readVarFile(fileVar, env[fileVar]!).replace(/\r?\n$/, '');
  if (value === '') throw new AppConfigError(`${fileVar}=${env[fileVar]}: the file is empty`);
  return value;
}

/** PEM certificate(s) from the file `name` names, checked now so a wrong file fails at start, not at the first connection. */
export function certificateFileVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (!isSet(env, name)) return undefined;
  const path = env[name]!;
  const pem = readVarFile(name, path);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new AppConfigError(`${name}=${path}: not a PEM certificate file (no -----BEGIN CERTIFICATE----- line)`);
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new AppConfigError(`${name}=${path}: the certificate cannot be read (${(error as Error).message})`, { cause: error });
  }
  return pem;
}

/** A PEM private key from the file `name` names, opened with `passphrase` now, so a wrong passphrase fails at start. */
export function privateKeyFileVar(env: NodeJS.ProcessEnv, name: string, passphrase: string | undefined): string | undefined {
  if (!isSet(env, name)) return undefined;
  const path = env[name]!;
  const pem = readVarFile(name, path);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new AppConfigError(`${name}=${path}: not a PEM private key file (no -----BEGIN ... PRIVATE KEY----- line)`);
  try {
    createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  } catch (error) {
    throw new AppConfigError(`${name}=${path}: the key cannot be opened${passphrase === undefined ? ' (encrypted? set its passphrase)' : ' with the passphrase given'} (${(error as Error).message})`, { cause: error });
  }
  return pem;
}
