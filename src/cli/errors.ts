/**
 * Errors of the command line, each with a stable `PS_ERR_CLI_` code (the README's error table lists
 * them; a test greps both ways). `exitCode` 2 is a usage mistake, 1 a failure of what was asked.
 */
export const CLI_ERRORS = {
  PS_ERR_CLI_USAGE: { exitCode: 2, description: 'Unknown command, unknown or malformed flag, or a missing argument; the message shows the usage.' },
  PS_ERR_CLI_NO_KAFKA: { exitCode: 1, description: 'Neither KAFKA_BROKERS/SCHEMA_REGISTRY_URL nor a running local stack.' },
  PS_ERR_CLI_TOPIC_NOT_FOUND: { exitCode: 1, description: '`consume` was given a topic that does not exist.' },
  PS_ERR_CLI_INVALID_BATCHES: { exitCode: 1, description: '`produce --file`: a batch failed validation; every problem is listed and nothing was produced.' },
} as const;

export type CliErrorCode = keyof typeof CLI_ERRORS;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = CLI_ERRORS[code].exitCode;
  }
}
