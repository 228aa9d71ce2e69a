package dev.profilestream.peer;

import java.util.Arrays;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The peer's identity index (equal-work mode): identity changes arrive repartitioned by `type:value`, and
 * the owner (MPID, updated time) is kept per identity, as profile-stream's identity-index processor does:
 * read the current owner, write when it differs.
 */
final class IdentityIndexProcessor implements Processor<String, byte[], Void, Void> {
  static final String STORE = "identity-index";
  private KeyValueStore<String, byte[]> store;

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    this.store = context.getStateStore(STORE);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    byte[] current = store.get(record.key());
    if (current == null || !Arrays.equals(current, record.value())) store.put(record.key(), record.value());
  }
}
