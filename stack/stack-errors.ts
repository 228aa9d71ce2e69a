/** Errors of the local stack, each with a stable code; the message says what failed and where to look. */
export const STACK_ERROR_CODES = [
  'PS_ERR_STACK_JAVA_MISSING',
  'PS_ERR_STACK_MAVEN_MISSING',
  'PS_ERR_STACK_DOWNLOAD_FAILED',
  'PS_ERR_STACK_PORT_TAKEN',
  'PS_ERR_STACK_START_FAILED',
  'PS_ERR_STACK_NOT_READY',
] as const;

export type StackErrorCode = (typeof STACK_ERROR_CODES)[number];

export class StackError extends Error {
  readonly code: StackErrorCode;
  /** Log file that holds the details, when there is one. */
  readonly logFile: string | undefined;

  /**
   * `logTail`: the log's last lines, put in the message because a CI run shows the message and then deletes
   * the machine the log was on.
   */
  constructor(code: StackErrorCode, message: string, options: { logFile?: string; logTail?: string; cause?: unknown } = {}) {
    const where = options.logFile ? `${message} (log: ${options.logFile})` : message;
    super(options.logTail ? `${where}; its last lines:\n${options.logTail}` : where, { cause: options.cause });
    this.name = 'StackError';
    this.code = code;
    this.logFile = options.logFile;
  }
}
