/** What /ready asks: is every task restored and running, and if not, what is still on its way. */
export interface ReadinessSource {
  readiness(): { ready: boolean; detail: Record<string, unknown> };
  /** What the instance waits for (Kafka, the schema registry), with since when and why; empty when nothing. */
  down?(): Array<{ part: string; since: string; reason: string }>;
}
