import pino, { type Logger } from 'pino';

/** Why an authentication failed, as the audit log records it (never the secret). */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown_key' | 'wrong_secret' | 'throttled' | 'verifier_busy' | 'bad_signature' | 'stale_date';

/**
 * The audit trail: authentication failures, API key use and erasure requests, each a structured line on
 * a logger named `audit`, so operators can route it apart from the application log (pino's `name`).
 * Secrets and signatures are never logged; key names and client addresses are.
 */
export class AuditLog {
  private readonly log: Logger;

  /** `base` is the application's pino logger; without one the trail is discarded (tests, embedded use). */
  constructor(base?: Logger) {
    this.log = base ? base.child({ name: 'audit' }) : pino({ level: 'silent' });
  }

  authFailed(entry: { reason: AuthFailureReason; key?: string; address: string; method: string; url: string; retryAfterSeconds?: number }): void {
    this.log.warn({ event: 'auth_failed', ...entry }, `authentication failed (${entry.reason})`);
  }

  keyUsed(entry: { key: string; address: string; method: string; url: string; scheme: 'basic' | 'signature' }): void {
    this.log.info({ event: 'api_key_used', ...entry }, 'API key used');
  }

  dsrRequested(entry: { key: string; address: string; requestId: string; workspaceId: string; target: string }): void {
    this.log.info({ event: 'dsr_requested', ...entry }, 'erasure requested');
  }
}
