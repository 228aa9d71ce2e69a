import { describe, expect, it } from 'vitest';
import { parseAppConfig } from '../../../src/config/app-config.ts';
import { AppConfigError } from '../../../src/config/config-errors.ts';

describe('topology/app.yaml errors say what is expected', () => {
  it('a profile lifetime other than 30, 60 or 90 names the allowed values, the value and the line', () => {
    const yaml = 'application_id: app\npartitions: 4\nsources: [web]\nretention:\n  profile_lifetime_days: 45\n';
    let error: unknown;
    try {
      parseAppConfig(yaml, 'topology/app.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).code).toBe('PS_ERR_APP_CONFIG');
    // The point of this error is its wording ("Invalid input" told the user nothing), so the text is checked.
    expect((error as Error).message).toContain('retention.profile_lifetime_days: expected 30, 60 or 90 (days), got 45 at topology/app.yaml:5');
  });
});
