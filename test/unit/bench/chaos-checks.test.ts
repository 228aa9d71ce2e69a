import { describe, expect, it } from 'vitest';
import { resumeAfterWritable } from '../../../bench/chaos/checks.ts';

describe('chaos broker resume: judged from when the broker takes writes again', () => {
  it('subtracts the wait for the first acknowledged send when outputs came after it', () => {
    expect(resumeAfterWritable({ resume_ms: 5256, input_resume_ms: 4980 })).toBe(276);
  });
  it('keeps the time from the broker answering when outputs flowed first (a backlog) or no send was seen', () => {
    expect(resumeAfterWritable({ resume_ms: 1200, input_resume_ms: 3000 })).toBe(1200);
    expect(resumeAfterWritable({ resume_ms: 1200, input_resume_ms: undefined })).toBe(1200);
  });
  it('is undefined when outputs never flowed again', () => {
    expect(resumeAfterWritable({ resume_ms: undefined, input_resume_ms: 400 })).toBeUndefined();
  });
});
