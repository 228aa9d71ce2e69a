/**
 * The layering STYLE.md asks for, checked by `test/unit/architecture.test.ts` (so by `npm test`).
 * No rule has exceptions: code that breaks one moves, it does not get listed here.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const IO_LIBRARIES = [
  'node_modules/(kafkajs|@platformatic/kafka|@kafkajs/confluent-schema-registry|avsc|fastify|@fastify/[^/]+|rocksdb-native|yaml|undici)/',
  '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|worker_threads|dgram)$',
].join('|');

/**
 * The only modules of the service that talk to a Kafka client: the runtime's port adapters and the app's
 * (`src/app/kafka/`). stack/, bench/ and test/ are tooling that drives a broker directly.
 */
const KAFKA_PORT_MODULES = '^src/(streams/internals/kafkajs-(adapter|security)[.]ts|streams/internals/platformatic/|app/kafka/)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules import each other one way; a cycle means a concept is split across the wrong files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'streams-stands-alone',
      comment: 'src/streams is a reusable Kafka Streams for Node: it imports nothing of the application.',
      severity: 'error',
      from: { path: '^src/streams/' },
      to: { path: '^(src|stack|bench|test|ui)/', pathNot: '^src/streams/' },
    },
    {
      name: 'domain-imports-no-io',
      comment: 'src/profiles and src/audiences are pure: no client, registry, Avro, HTTP, RocksDB, YAML or file library, not even through another module.',
      severity: 'error',
      from: { path: '^src/(profiles|audiences)/' },
      to: { path: IO_LIBRARIES, reachable: true },
    },
    {
      name: 'domain-imports-no-wiring',
      comment: 'The domain never reaches into the runtime, the app wiring, the HTTP layer or the CLI.',
      severity: 'error',
      from: { path: '^src/(profiles|audiences)/' },
      to: { path: '^(src/(streams|app|api|cli|config|kafka)|stack|bench|test)/' },
    },
    {
      name: 'kafka-client-only-in-ports',
      comment: 'Only the Kafka port modules import a Kafka client, so a client can be replaced or wrapped in one place.',
      severity: 'error',
      from: { path: '^src/', pathNot: KAFKA_PORT_MODULES },
      to: { path: 'node_modules/(kafkajs|@platformatic/kafka)/' },
    },
    {
      name: 'independent-oracle-shares-nothing',
      comment:
        'test/support/independent-* compute expected values from the documented rules: they may read the data types of a batch and a profile, nothing else of src (no merge, no helper), or they would check the code against itself.',
      severity: 'error',
      from: { path: '^test/support/independent-' },
      to: { path: '^src/', pathNot: '^src/schema/(batch|profile-state)[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    exclude: { path: '^dist/' },
  },
};
