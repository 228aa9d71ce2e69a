import type { Serde } from '../serdes.ts';
import type { Partitioner } from '../partitioner.ts';
import type { ProcessorSupplier } from '../processor.ts';
import type { Record } from '../record.ts';
import type { StoreBuilder } from '../store.ts';

/** A topic as written in the topology: internal topics get the application id as prefix at build. */
export interface TopicRef {
  readonly name: string;
  readonly internal: boolean;
}

export type TopicExtractor = (record: Record<unknown, unknown>) => string;

export interface SourceNodeDef {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[];
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly children: string[];
}

export interface ProcessorNodeDef {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: ProcessorSupplier<any, any, any, any>;
  readonly parents: readonly string[];
  readonly children: string[];
  readonly stores: string[];
}

export interface SinkNodeDef {
  readonly kind: 'sink';
  readonly name: string;
  readonly topic: string | TopicExtractor;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitioner: Partitioner | undefined;
  readonly parents: readonly string[];
}

export type NodeDef = SourceNodeDef | ProcessorNodeDef | SinkNodeDef;

export interface SubTopology {
  readonly id: number;
  /** Nodes in the order they were added. */
  readonly nodes: ReadonlyMap<string, NodeDef>;
  /** Resolved input topic → source node name. */
  readonly sourceTopics: ReadonlyMap<string, string>;
  readonly storeNames: readonly string[];
}

export interface StoreDef {
  readonly builder: StoreBuilder<unknown, unknown>;
  readonly subTopology: number;
  readonly changelogTopic: string;
}

/** A validated topology with internal topic names resolved for one application id. */
export interface BuiltTopology {
  readonly applicationId: string;
  readonly subTopologies: readonly SubTopology[];
  readonly stores: ReadonlyMap<string, StoreDef>;
  /** Resolved names of repartition topics (created by the app, partition count of their writer). */
  readonly repartitionTopics: readonly string[];
}

export function changelogTopicName(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

export function repartitionTopicName(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`;
}

export function taskIdOf(subTopology: number, partition: number): string {
  return `${subTopology}_${partition}`;
}

export function parseTaskId(taskId: string): { subTopology: number; partition: number } {
  const [s, p] = taskId.split('_');
  return { subTopology: Number(s), partition: Number(p) };
}
