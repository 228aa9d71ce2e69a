import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBrokerKeystore, type BrokerSecurity } from '../../../stack/broker-security.ts';
import { findJava } from '../../../stack/java-runtime.ts';
import { startKafka, stopKafka } from '../../../stack/kafka-node.ts';
import { stackConfig, stackPaths } from '../../../stack/stack-config.ts';

export const USER = { name: 'alice', password: 'alice-secret' } as const;

export interface SecuredBroker {
  /** `host:port` of each listener. */
  readonly saslPlaintext: string;
  readonly saslSsl: string;
  readonly ssl: string;
  /** The broker certificate as PEM (self-signed: it is its own CA) and the file holding it. */
  readonly caPem: string;
  readonly caFile: string;
  /** The PKCS12 keystore (a registry proxy in front of the shared registry serves TLS with it too). */
  readonly keystore: { readonly file: string; readonly password: string };
  stop(): Promise<void>;
}

/**
 * A broker of this test's own, on its own ports and data directory (the shared stack's jars), with
 * SASL_PLAINTEXT, SASL_SSL and SSL listeners beside its PLAINTEXT one: the shared broker stays PLAINTEXT,
 * as every other test expects. `alice` gets SCRAM-SHA-512/256 credentials at format time and a PLAIN entry.
 */
export async function startSecuredBroker(root: string, basePort: number): Promise<SecuredBroker> {
  const java = await findJava();
  const tls = await createBrokerKeystore(java, join(root, 'tls'), { ips: ['127.0.0.1'], dns: ['localhost'] });
  const security: BrokerSecurity = { users: [USER], saslPlaintextPort: basePort + 2, saslSslPort: basePort + 3, sslPort: basePort + 4, keystore: tls.keystore };
  const shared = stackPaths(stackConfig());
  const config = { ...stackConfig(), cacheDir: root, kafkaPort: basePort, controllerPort: basePort + 1, security };
  const paths = { ...stackPaths(config), kafkaLibs: shared.kafkaLibs };
  mkdirSync(join(root, 'run'), { recursive: true });
  await startKafka(config, paths, java);
  return {
    saslPlaintext: `127.0.0.1:${security.saslPlaintextPort}`,
    saslSsl: `127.0.0.1:${security.saslSslPort}`,
    ssl: `127.0.0.1:${security.sslPort}`,
    caPem: tls.caPem,
    caFile: tls.caFile,
    keystore: tls.keystore,
    stop: async () => {
      await stopKafka(paths);
    },
  };
}
