import { Record, Stores, Topology, stringSerde, numberSerde, type ProcessorContext, type KeyValueStore, type Processor } from '../../../src/streams/index.ts';

/** Counts records per key into store "counts" and forwards the new count. */
export class CountProcessor implements Processor<string, string, string, number> {
  #ctx!: ProcessorContext<string, number>;
  #store!: KeyValueStore<string, number>;
  init(ctx: ProcessorContext<string, number>): void {
    this.#ctx = ctx;
    this.#store = ctx.store<string, number>('counts');
  }
  async prefetch(records: readonly Record<string, string>[]): Promise<void> {
    await this.#store.getMany(records.map((r) => r.key));
  }
  async process(record: Record<string, string>): Promise<void> {
    if (record.value === 'boom') throw new Error('value was boom');
    const n = ((await this.#store.get(record.key)) ?? 0) + 1;
    await this.#store.put(record.key, n);
    await this.#ctx.forward(record.withValue(n));
  }
}

export function countingTopology(input: string, output: string): Topology {
  return new Topology()
    .addSource('in', [input], { keySerde: stringSerde, valueSerde: stringSerde })
    .addProcessor('count', () => new CountProcessor(), 'in')
    .addStateStore(Stores.persistentKeyValueStore('counts', stringSerde, numberSerde), 'count')
    .addSink('out', output, { keySerde: stringSerde, valueSerde: numberSerde }, 'count');
}
