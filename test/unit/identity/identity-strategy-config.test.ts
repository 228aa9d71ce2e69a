import { describe, expect, it } from 'vitest';
import { loadIdentityStrategy, parseIdentityStrategy } from '../../../src/config/identity-strategy-config.ts';

describe('topology/identity.yaml', () => {
  it('reads mParticle\'s names, completes the priority and defaults the rest', () => {
    const s = parseIdentityStrategy('unique_identities: [customerid, email]\npriority: [email, customerid]\n', 'identity.yaml');
    expect([...s.uniqueTypes]).toEqual(['customer_id', 'email']);
    expect(s.priority.slice(0, 3)).toEqual(['email', 'customer_id', 'other']);
    expect(s.priority.at(-1)).toBe('device_application_stamp');
    expect(s.onConflict).toBe('dead_letter');
  });

  it('names the path and the line of a bad value', () => {
    const bad = (text: string) => {
      try {
        parseIdentityStrategy(text, 'topology/identity.yaml');
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
      throw new Error('accepted');
    };
    expect(bad('unique_identities: [customer_id]\npriority:\n  - email\n  - facebookid\n')).toEqual({ code: 'PS_ERR_IDENTITY_STRATEGY_INVALID', message: expect.stringMatching(/^priority\[1\]: "facebookid" is not an identity type.* at topology\/identity\.yaml:4$/) });
    expect(bad('priority: [email, email]\n').message).toMatch(/^priority\[1\]: email is listed twice \(also priority\[0\]\) at topology\/identity\.yaml:1$/);
    expect(bad('\non_conflict: merge\n').message).toMatch(/^on_conflict: expected dead_letter\|drop_identity at topology\/identity\.yaml:2$/);
    expect(bad('uniques: []\n').message).toMatch(/^uniques: unknown key .* at topology\/identity\.yaml:1$/);
  });

  it('uses the default strategy when the file is absent, and the repository\'s file is valid', async () => {
    expect((await loadIdentityStrategy('/nonexistent/identity.yaml')).uniqueTypes).toEqual(new Set(['customer_id']));
    expect((await loadIdentityStrategy('topology/identity.yaml')).priority[0]).toBe('customer_id');
  });
});
