import { describe, expect, it } from 'vitest';
import { Stores, Topology, TopologyError, stringSerde } from '../../../src/streams/index.ts';

const serdes = { keySerde: stringSerde, valueSerde: stringSerde };
const noop = () => ({ process() {} });

function thrown(f: () => unknown): TopologyError {
  try {
    f();
  } catch (e) {
    return e as TopologyError;
  }
  throw new Error('expected a TopologyError');
}

describe('Topology wiring checks', () => {
  it('rejects an unknown parent, naming the node', () => {
    const e = thrown(() => new Topology().addSource('in', ['t'], serdes).addProcessor('p', noop, 'nope'));
    expect(e).toBeInstanceOf(TopologyError);
    expect(e.code).toBe('PS_ERR_TOPOLOGY_INVALID');
    expect(e.node).toBe('p');
  });

  it('rejects duplicate names, a sink as parent, and a source without children', () => {
    expect(thrown(() => new Topology().addSource('a', ['t'], serdes).addSource('a', ['u'], serdes)).node).toBe('a');
    expect(thrown(() => new Topology().addSource('a', ['t'], serdes).addSink('s', 'o', serdes, 'a').addProcessor('p', noop, 's')).node).toBe('p');
    expect(thrown(() => new Topology().addSource('lonely', ['t'], serdes).build('app')).node).toBe('lonely');
  });

  it('rejects a topic read by two sources and a store on an unknown processor', () => {
    const t = new Topology().addSource('a', ['t'], serdes).addSource('b', ['t'], serdes).addProcessor('p', noop, 'a', 'b');
    expect(thrown(() => t.build('app')).node).toBe('b');
    expect(thrown(() => new Topology().addStateStore(Stores.inMemoryKeyValueStore('s', stringSerde, stringSerde), 'ghost')).node).toBe('ghost');
  });

  it('puts processors that share a store into one sub-topology', () => {
    const t = new Topology()
      .addSource('a', ['ta'], serdes)
      .addSource('b', ['tb'], serdes)
      .addProcessor('pa', noop, 'a')
      .addProcessor('pb', noop, 'b')
      .addStateStore(Stores.persistentKeyValueStore('shared', stringSerde, stringSerde), 'pa', 'pb');
    const built = t.build('app');
    expect(built.subTopologies).toHaveLength(1);
    expect([...built.subTopologies[0]!.sourceTopics.keys()]).toEqual(['ta', 'tb']);
    expect(built.stores.get('shared')!.changelogTopic).toBe('app-shared-changelog');
  });

  it('logs a store to a topic of its own choosing, and refuses one a source reads, a sink writes or another store logs to', () => {
    const base = () => new Topology().addSource('in', ['raw'], serdes).addProcessor('p', noop, 'in');
    const store = (name: string, topic: string) => Stores.persistentKeyValueStore(name, stringSerde, stringSerde).withChangelogTopic(topic);
    expect(base().addStateStore(store('h', 'app.history'), 'p').build('app').stores.get('h')!.changelogTopic).toBe('app.history');
    // The choice survives the other builder options.
    expect(store('h', 'app.history').withCachingDisabled().changelogTopic).toBe('app.history');
    expect(thrown(() => base().addStateStore(store('h', 'raw'), 'p').build('app')).node).toBe('h');
    expect(thrown(() => base().addSink('out', 'app.history', serdes, 'p').addStateStore(store('h', 'app.history'), 'p').build('app')).node).toBe('h');
    expect(thrown(() => base().addStateStore(store('h', 'app.history'), 'p').addStateStore(store('g', 'app.history'), 'p').build('app')).node).toBe('g');
  });
});
