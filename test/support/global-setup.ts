import type { TestProject } from 'vitest/node';
import { LocalStack } from '../../stack/local-stack.ts';
import { dockerAnswers, startContainers } from './container-stack.ts';

/**
 * Gives every test file a real broker and schema registry:
 * 1. KAFKA_BROKERS and SCHEMA_REGISTRY_URL when both are set (the user's own stack);
 * 2. otherwise testcontainers, when a Docker engine answers;
 * 3. otherwise the local stack from Maven Central jars (stack/), stopped at the end only if we started it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let teardown = async (): Promise<void> => undefined;
  if (!process.env.KAFKA_BROKERS || !process.env.SCHEMA_REGISTRY_URL) {
    if (await dockerAnswers()) {
      const containers = await startContainers();
      process.env.KAFKA_BROKERS = containers.brokers;
      process.env.SCHEMA_REGISTRY_URL = containers.schemaRegistryUrl;
      teardown = containers.stop;
    } else {
      const stack = new LocalStack();
      const endpoints = await stack.up((line) => console.log(`[stack] ${line}`));
      process.env.KAFKA_BROKERS = endpoints.brokers;
      process.env.SCHEMA_REGISTRY_URL = endpoints.schemaRegistryUrl;
      if (endpoints.kafka === 'started' && !process.env.PROFILE_STREAM_KEEP_STACK) {
        teardown = async () => {
          await stack.down();
        };
      }
    }
  }
  project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
  project.provide('schemaRegistryUrl', process.env.SCHEMA_REGISTRY_URL);
  return teardown;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
  }
}
