/** The application configuration (topology/app.yaml or the environment) is invalid; the message names file, path and line. */
export class AppConfigError extends Error {
  readonly code = 'PS_ERR_APP_CONFIG' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'AppConfigError';
  }
}
