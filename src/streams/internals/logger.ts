/** The logging the runtime needs; a pino logger fits as is. */
export interface StreamsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Without a logger, warnings and errors still reach stderr: a fatal error is never silent. */
export const stderrLogger: StreamsLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};
