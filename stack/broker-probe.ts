import { Admin } from '@platformatic/kafka';

/**
 * The ids of the brokers a client sees through `brokers` (a metadata request, one attempt, 2 s to connect);
 * none when no node answers. On @platformatic/kafka, the service's own client: kafkajs, unmaintained, printed a
 * TimeoutNegativeWarning on Node 24 for every client it made (kafkajs issue #1751), so on every start of the stack.
 */
export async function brokerIds(brokers: readonly string[]): Promise<number[]> {
  const admin = new Admin({ clientId: 'profile-stream-stack-probe', bootstrapBrokers: [...brokers], retries: 0, connectTimeout: 2000, timeout: 5000 });
  try {
    const metadata = await admin.metadata({ topics: [], forceUpdate: true });
    return [...metadata.brokers.keys()];
  } catch {
    return [];
  } finally {
    await admin.close().catch(() => undefined);
  }
}
