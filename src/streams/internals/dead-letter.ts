import type { Headers } from '../record.ts';

/** Headers of a dead-letter record: why it failed and where it came from. Values are the original bytes. */
export function deadLetterHeaders(
  source: { topic: string; partition: number; offset: string },
  err: unknown,
  code: string,
): Headers {
  const e = err instanceof Error ? err : undefined;
  return {
    'x-error-class': e?.name && e.name !== 'Error' ? e.name : (e?.constructor?.name ?? typeof err),
    'x-error-code': code,
    'x-error-message': (e?.message ?? String(err)).slice(0, 4096),
    'x-source-topic': source.topic,
    'x-source-partition': String(source.partition),
    'x-source-offset': source.offset,
  };
}
