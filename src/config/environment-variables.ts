/**
 * Every environment variable profile-stream reads, in one list: `--help` prints it and a test checks that
 * the README's table and the code's reads (`env.X`, `process.env.X`) name the same variables, so a new
 * setting cannot be added without being documented.
 */
export interface EnvironmentVariable {
  readonly name: string;
  readonly default: string;
  readonly meaning: string;
  /** Which part reads it: the service (`start`), the clients (`produce`, `consume`, `topics`), the local stack. */
  readonly usedBy: readonly ('service' | 'clients' | 'stack' | 'tests')[];
}

export const ENVIRONMENT_VARIABLES: readonly EnvironmentVariable[] = [
  { name: 'KAFKA_BROKERS', default: '(local stack)', meaning: 'comma-separated brokers; set together with SCHEMA_REGISTRY_URL', usedBy: ['service', 'clients', 'tests'] },
  { name: 'SCHEMA_REGISTRY_URL', default: '(local stack)', meaning: 'Confluent-compatible registry base URL (Apicurio: .../apis/ccompat/v7)', usedBy: ['service', 'clients', 'tests'] },
  { name: 'TOPOLOGY_DIR', default: './topology', meaning: 'the deployable description: app.yaml, integrations.yaml, api-keys.yaml, ...', usedBy: ['service', 'clients'] },
  { name: 'HTTP_HOST', default: '127.0.0.1', meaning: 'address the HTTP API listens on', usedBy: ['service'] },
  { name: 'HTTP_PORT', default: '8080', meaning: 'port the HTTP API listens on (0: any free port)', usedBy: ['service'] },
  { name: 'STATE_DIR', default: '~/.cache/profile-stream/state', meaning: 'RocksDB state (rebuilt from changelogs when lost)', usedBy: ['service'] },
  { name: 'PROCESSING_GUARANTEE', default: 'exactly_once', meaning: 'exactly_once or at_least_once', usedBy: ['service'] },
  { name: 'KAFKA_SECURITY_PROTOCOL', default: 'PLAINTEXT', meaning: 'how every Kafka client connects: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (needs KAFKA_BROKERS)', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SASL_MECHANISM', default: 'SCRAM-SHA-512', meaning: 'with SASL_*: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SASL_USERNAME', default: '(none)', meaning: 'with SASL_*: the SASL user', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SASL_PASSWORD', default: '(none)', meaning: 'with SASL_*: the SASL password (or KAFKA_SASL_PASSWORD_FILE)', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SASL_PASSWORD_FILE', default: '(none)', meaning: 'a file holding the SASL password (a trailing newline is ignored)', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SSL_CA_FILE', default: '(system CAs)', meaning: 'with SSL/SASL_SSL: PEM CA certificate(s) the brokers\' certificates must chain to', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SSL_CERT_FILE', default: '(none)', meaning: 'with SSL/SASL_SSL: PEM client certificate, for brokers that require one (with KAFKA_SSL_KEY_FILE)', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SSL_KEY_FILE', default: '(none)', meaning: 'with SSL/SASL_SSL: PEM private key of the client certificate', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SSL_KEY_PASSWORD', default: '(none)', meaning: 'passphrase of an encrypted KAFKA_SSL_KEY_FILE (or KAFKA_SSL_KEY_PASSWORD_FILE)', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_SSL_KEY_PASSWORD_FILE', default: '(none)', meaning: 'a file holding that passphrase', usedBy: ['service', 'clients'] },
  { name: 'SCHEMA_REGISTRY_USERNAME', default: '(none)', meaning: 'HTTP Basic user for the registry (Confluent Cloud: the API key); or user:password@ in SCHEMA_REGISTRY_URL', usedBy: ['service', 'clients'] },
  { name: 'SCHEMA_REGISTRY_PASSWORD', default: '(none)', meaning: 'HTTP Basic password for the registry (or SCHEMA_REGISTRY_PASSWORD_FILE)', usedBy: ['service', 'clients'] },
  { name: 'SCHEMA_REGISTRY_PASSWORD_FILE', default: '(none)', meaning: 'a file holding the registry password', usedBy: ['service', 'clients'] },
  { name: 'SCHEMA_REGISTRY_CA_FILE', default: '(system CAs)', meaning: 'PEM CA certificate(s) to trust for an https:// SCHEMA_REGISTRY_URL', usedBy: ['service', 'clients'] },
  { name: 'KAFKA_CLIENT', default: 'platformatic', meaning: 'the Kafka client the stream runtime uses: platformatic (@platformatic/kafka, static membership), the only one since the kafkajs port was removed', usedBy: ['service', 'tests'] },
  { name: 'STANDBY_REPLICAS', default: '0', meaning: 'standby replicas per stateful task: other instances keep its stores warm from the changelogs, so a failover restores only the tail (0-10)', usedBy: ['service'] },
  { name: 'MEMORY_TRIM_GROWTH_MB', default: '0', meaning: 'off at 0; otherwise glibc\'s free memory goes back to the kernel (malloc_trim) each time the resident set grew by this many MiB, restores included: less memory for some throughput (README "Memory")', usedBy: ['service'] },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino log level', usedBy: ['service'] },
  { name: 'APPLICATION_SERVER', default: 'HTTP_HOST:HTTP_PORT', meaning: 'host:port other instances use to forward Profile API requests here', usedBy: ['service'] },
  { name: 'IMMUTABLE_ID_TYPE', default: 'customer_id', meaning: 'the identity type POST /userprofile/v1/resolve looks users up by', usedBy: ['service'] },
  { name: 'HTTP_BODY_LIMIT_BYTES', default: '1048576', meaning: 'larger request bodies get 413', usedBy: ['service'] },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '6000', meaning: 'HTTP requests a minute per API key (per instance); 429 beyond', usedBy: ['service'] },
  { name: 'MAX_BULK_BATCHES', default: '100', meaning: 'batches per /v2/bulkevents request', usedBy: ['service'] },
  { name: 'MAX_SEEDS_PER_REQUEST', default: '1000', meaning: 'seeds per /v1/calculated-attributes/seeds request', usedBy: ['service'] },
  { name: 'HTTP_JSON_MAX_DEPTH', default: '64', meaning: 'deepest nesting of arrays and objects in a JSON body; 400 PS_ERR_API_BODY_TOO_DEEP beyond', usedBy: ['service'] },
  { name: 'AUTH_MAX_FAILURES_PER_ADDRESS', default: '20', meaning: 'failed authentications per client address in a window before 429 PS_ERR_API_AUTH_THROTTLED', usedBy: ['service'] },
  { name: 'AUTH_MAX_FAILURES_PER_KEY', default: '5', meaning: 'failed authentications per API key from one address in a window before 429', usedBy: ['service'] },
  { name: 'AUTH_FAILURE_WINDOW_SECONDS', default: '60', meaning: 'the window failed authentications are counted in', usedBy: ['service'] },
  { name: 'AUTH_FAILURE_DELAY_MS', default: '1000', meaning: 'a refused secret (401, 429, 503) is answered after this long', usedBy: ['service'] },
  { name: 'AUTH_VERIFY_CONCURRENCY', default: '1', meaning: 'scrypt secret checks at once, each on its own worker thread', usedBy: ['service'] },
  { name: 'AUTH_VERIFY_PER_SECOND', default: '2', meaning: 'scrypt checks started per second at most (0: no pacing); verified credentials are cached and never wait', usedBy: ['service'] },
  { name: 'AUTH_VERIFY_QUEUE', default: '32', meaning: 'scrypt checks waiting at most; 503 PS_ERR_API_AUTH_BUSY beyond', usedBy: ['service'] },
  { name: 'PROFILE_STREAM_CACHE_DIR', default: '$XDG_CACHE_HOME/profile-stream or ~/.cache/profile-stream', meaning: 'local stack jars, data and logs; default parent of STATE_DIR', usedBy: ['service', 'stack'] },
  { name: 'XDG_CACHE_HOME', default: '~/.cache', meaning: 'where the cache directory goes when PROFILE_STREAM_CACHE_DIR is not set', usedBy: ['service', 'stack'] },
  { name: 'STACK_KAFKA_PORT', default: '9092', meaning: 'local stack: Kafka broker port', usedBy: ['stack'] },
  { name: 'STACK_CONTROLLER_PORT', default: '9093', meaning: 'local stack: KRaft controller port', usedBy: ['stack'] },
  { name: 'STACK_REGISTRY_PORT', default: '8081', meaning: 'local stack: schema registry port', usedBy: ['stack'] },
  { name: 'JAVA_HOME', default: '(java on PATH)', meaning: 'local stack: the Java 17+ that runs Kafka and the registry', usedBy: ['stack'] },
  { name: 'PROFILE_STREAM_KEEP_STACK', default: '(unset)', meaning: 'tests: leave a local stack the tests started running at the end', usedBy: ['tests'] },
];

/** The variables a part reads, as `--help` lines: `  NAME (default)  meaning`. */
export function environmentHelp(parts: readonly EnvironmentVariable['usedBy'][number][]): string {
  const vars = ENVIRONMENT_VARIABLES.filter((v) => v.usedBy.some((u) => parts.includes(u)));
  const width = Math.max(...vars.map((v) => v.name.length));
  return vars.map((v) => `  ${v.name.padEnd(width)}  ${v.meaning} (default ${v.default})`).join('\n');
}
