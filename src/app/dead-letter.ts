import type { IHeaders } from 'kafkajs';

/** What went wrong with a record, in the headers every dead-letter record carries (same names as the runtime's). */
export function deadLetterHeaders(error: unknown, source: { topic: string; partition: number; offset: string }): IHeaders {
  const e = error as { name?: string; code?: string; message?: string };
  return {
    'x-error-class': e?.name ?? 'Error',
    'x-error-code': e?.code ?? 'PS_ERR_UNKNOWN',
    'x-error-message': (e?.message ?? String(error)).slice(0, 4000),
    'x-source-topic': source.topic,
    'x-source-partition': String(source.partition),
    'x-source-offset': source.offset,
  };
}
