/** What /ready asks: is every task restored and running, and if not, what is still on its way. */
export interface ReadinessSource {
  readiness(): { ready: boolean; detail: Record<string, unknown> };
}
