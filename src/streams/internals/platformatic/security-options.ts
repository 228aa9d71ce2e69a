import type { BaseOptions } from '@platformatic/kafka';
import { isIP } from 'node:net';
import type { KafkaSecurity } from '../../kafka-security.ts';

/**
 * @platformatic/kafka's `tls`, `tlsServerName` and `sasl` options; empty for PLAINTEXT.
 * The library sets no SNI server name unless asked; kafkajs sends the broker's host name, and so do we
 * (never an IP address: Node refuses those as a server name). The certificate is checked either way.
 */
export function platformaticSecurityOptions(security: KafkaSecurity | undefined, brokers: readonly string[]): Pick<BaseOptions, 'tls' | 'tlsServerName' | 'sasl'> {
  const out: Pick<BaseOptions, 'tls' | 'tlsServerName' | 'sasl'> = {};
  const tls = security?.tls;
  if (tls) {
    out.tls = {
      rejectUnauthorized: true,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.keyPassword ? { passphrase: tls.keyPassword } : {}),
    };
    if (brokers.every((b) => isIP(hostOf(b)) === 0)) out.tlsServerName = true;
  }
  const sasl = security?.sasl;
  if (sasl) out.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
  return out;
}

function hostOf(broker: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(broker);
  if (bracketed) return bracketed[1]!;
  const colon = broker.lastIndexOf(':');
  return colon > 0 ? broker.slice(0, colon) : broker;
}
