import { describe, expect, it } from 'vitest';
import * as errors from '../../../src/schema/errors.ts';

describe('schema layer errors', () => {
  const instances = [
    new errors.InvalidBatchError([{ path: '$.mpid', message: 'bad' }]),
    new errors.BadMagicByteError('t', 1),
    new errors.UnknownSchemaIdError('t', 9),
    new errors.InvalidPayloadError('t', 9, 'truncated'),
    new errors.IncompatibleSchemaError('t', 9, 'a.B', 'a.C'),
    new errors.InvalidValueError('t', ['$.x']),
    new errors.SchemaRegistryError('down'),
    new errors.SchemaRejectedError('t-value', 'BACKWARD', 'incompatible'),
  ];

  it('every error class has a documented, distinct code', () => {
    const codes = instances.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.keys(errors.SCHEMA_ERROR_CODES).sort());
    for (const code of codes) expect(errors.SCHEMA_ERROR_CODES[code].length).toBeGreaterThan(20);
  });

  it('only registry outages are retriable', () => {
    expect(instances.filter((e) => e.retriable).map((e) => e.code)).toEqual(['PS_ERR_SCHEMA_REGISTRY']);
  });

  it('an invalid batch names its problems in the message and is a 400', () => {
    const error = new errors.InvalidBatchError([{ path: '$.mpid', message: 'must be digits' }]);
    expect(error.message).toContain('$.mpid: must be digits');
    expect(error.statusCode).toBe(400);
  });
});
