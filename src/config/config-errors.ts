import type { ConfigErrorFactory } from './yaml-document.ts';

/** The application configuration (topology/app.yaml or the environment) is invalid; the message names file, path and line. */
export class AppConfigError extends Error {
  readonly code = 'PS_ERR_APP_CONFIG' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'AppConfigError';
  }
}

/** app.yaml and api-keys.yaml fail with `AppConfigError`: `<path>: <problem> at <file>:<line>`. */
export const appConfigError: ConfigErrorFactory = (path, problem, at, options) =>
  new AppConfigError(`${path === '' ? '(top level)' : path}: ${problem} at ${at.line === undefined ? at.file : `${at.file}:${at.line}`}`, options);
