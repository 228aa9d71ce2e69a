import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

// Retried by kafkajs on its own (at start-up the group and transaction coordinators load for a moment), or
// a warning about the bounded retries we choose on purpose (a dead broker must fail a request, not hang it).
const TRANSIENT = /coordinator is loading|coordinator is not available|not the correct coordinator|rebalanc|Limiting retries for the idempotent producer/i;

/** Routes kafkajs's log through our pino logger, with transient, retried errors at debug level. */
export function kafkajsLogCreator(logger: Logger): logCreator {
  return () => ({ namespace, level, log }) => {
    const { message, ...extra } = log;
    const fields = { component: 'kafkajs', namespace, ...extra };
    if (TRANSIENT.test(`${message} ${String(extra.error ?? '')}`)) logger.debug(fields, message);
    else if (level === logLevel.ERROR) logger.error(fields, message);
    else if (level === logLevel.WARN) logger.warn(fields, message);
    else logger.debug(fields, message);
  };
}
