import type { ReadinessSource } from '../api/readiness-source.ts';

/** The running stream processor as the CLI and the HTTP API see it. */
export interface Service extends ReadinessSource {
  start(): Promise<void>;
  /** Graceful: finishes in-flight work, commits, closes state. */
  close(): Promise<void>;
  /** Called once when the service stops on an error it cannot recover from. */
  onFatal(listener: (error: Error) => void): void;
}
