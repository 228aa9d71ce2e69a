import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { kafkaAnswers } from '../../stack/kafka-node.ts';
import { LocalStack } from '../../stack/local-stack.ts';
import { stackConfig } from '../../stack/stack-config.ts';
import { dockerAnswers, startContainers } from './container-stack.ts';
import { leftoversSince, removeRunLeftovers, stackContents } from './run-leftovers.ts';
import { RUN_PREFIX_ENV } from './stack-env.ts';

/**
 * Gives every test file a real broker and schema registry:
 * 1. KAFKA_BROKERS and SCHEMA_REGISTRY_URL when both are set (the user's own stack);
 * 2. otherwise testcontainers, when a Docker engine answers;
 * 3. otherwise the local stack (stack/) on the configured ports: the one already running (`npm run stack:up`)
 *    is shared, since every test file uses topic names of its own; with PROFILE_STREAM_KEEP_STACK it is
 *    started in the usual place and left running;
 * 4. otherwise a local stack started for this run in a fresh run directory, stopped and removed at the end.
 *    Fresh, because a broker killed with its machine's session recovers every topic earlier runs left in its
 *    data directory before it answers (over 90 s once, on two cores).
 *
 * Every name a test makes starts with this run's prefix (`uniqueName`), and at the end the run deletes the
 * topics, groups and subjects with that prefix: a shared stack is left with what it had before.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let teardown = async (): Promise<void> => undefined;
  /** False when this run started a stack (or containers) of its own, removed whole at its end. */
  let sharedStack = true;
  if (!process.env.KAFKA_BROKERS || !process.env.SCHEMA_REGISTRY_URL) {
    if (await dockerAnswers()) {
      const containers = await startContainers();
      process.env.KAFKA_BROKERS = containers.brokers;
      process.env.SCHEMA_REGISTRY_URL = containers.schemaRegistryUrl;
      teardown = containers.stop;
      sharedStack = false;
    } else {
      const shared = stackConfig();
      const fresh = !process.env.PROFILE_STREAM_KEEP_STACK && !(await kafkaAnswers(shared));
      let stack = new LocalStack(shared);
      let runDir: string | undefined;
      if (fresh) {
        const runs = join(shared.cacheDir, 'test-runs');
        mkdirSync(runs, { recursive: true });
        runDir = mkdtempSync(join(runs, 'run-'));
        sharedStack = false;
        stack = new LocalStack({ ...shared, runDir });
        console.log(`[stack] a stack of this run's own, in ${runDir}`);
      }
      const endpoints = await stack.up((line) => console.log(`[stack] ${line}`));
      process.env.KAFKA_BROKERS = endpoints.brokers;
      process.env.SCHEMA_REGISTRY_URL = endpoints.schemaRegistryUrl;
      if (runDir !== undefined) {
        const dir = runDir;
        teardown = async () => {
          await stack.down();
          rmSync(dir, { recursive: true, force: true });
        };
      }
    }
  }
  const prefix = `psrun-${randomBytes(6).toString('hex')}`;
  // Child processes the tests start (the CLI, benchmark workers) read it from the environment.
  process.env[RUN_PREFIX_ENV] = prefix;
  project.provide('runPrefix', prefix);
  const brokers = process.env.KAFKA_BROKERS.split(',');
  const registryUrl = process.env.SCHEMA_REGISTRY_URL;
  const stopStack = teardown;
  const before = await stackContents(brokers, registryUrl);
  teardown = async () => {
    try {
      const removed = await removeRunLeftovers(brokers, registryUrl, prefix);
      console.log(`[cleanup] removed this run's ${removed.topics} topics, ${removed.groups} groups and ${removed.subjects} subjects (prefix ${prefix})`);
      // A shared stack (the user's, `npm run stack:up`) must hold what it held before the run: a name a test
      // made without the run's prefix would stay behind there, so it fails the run (issue 16). A stack of
      // the run's own is removed whole; nothing to compare.
      const left = sharedStack ? leftoversSince(before, await stackContents(brokers, registryUrl)) : [];
      if (left.length > 0) throw new Error(`the test run left ${left.length} name(s) without its prefix on the stack: ${left.slice(0, 20).join(', ')}`);
      if (sharedStack) console.log(`[cleanup] the stack holds what it held before the run (${before.topics.size} topics, ${before.subjects.size} subjects then; other runs' own names aside)`);
    } finally {
      await stopStack();
    }
  };
  project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
  project.provide('schemaRegistryUrl', process.env.SCHEMA_REGISTRY_URL);
  return teardown;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
    runPrefix: string;
  }
}
