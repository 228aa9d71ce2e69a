package dev.profilestream.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of profile-stream's pipeline benchmark. One argument, JSON:
 * {applicationId, brokers, registryUrl, input, outputAll, outputAds, guarantee (at_least_once|exactly_once),
 *  commitIntervalMs, stateDir, enrichedSchemaFile, threads, work (merge|full), identityTopic (work full: a
 *  topic with the input's partition count, created by the caller)}. Prints {"event":"running"} when RUNNING.
 * Work `merge` is the profile merge and enrichment only; `full` adds what else profile-stream does per batch
 * (replay dedup, history store and its changelog, history-days, identity index through a repartition).
 */
public final class PeerApp {
  public static void main(String[] args) throws Exception {
    JsonNode c = new ObjectMapper().readTree(args[0]);
    Registry registry = new Registry(c.get("registryUrl").asText());
    Schema enriched = new Schema.Parser().parse(new File(c.get("enrichedSchemaFile").asText()));
    String outAll = c.get("outputAll").asText();
    String outAds = c.get("outputAds").asText();
    boolean full = c.path("work").asText("merge").equals("full");
    String app = c.get("applicationId").asText();
    Map<String, Integer> ids = new java.util.HashMap<>(Map.of("all", registry.register(outAll + "-value", enriched), "ads", registry.register(outAds + "-value", enriched)));
    if (full) ids.put("history", registry.register(app + "-history-value", enriched));

    Topology topology = new Topology();
    topology.addSource("raw", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), c.get("input").asText());
    topology.addProcessor("profile-merge", () -> new ProfileMergeProcessor(registry, enriched, ids, full), "raw");
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ProfileMergeProcessor.STORE), Serdes.String(), Serdes.ByteArray()), "profile-merge");
    topology.addSink("sink-all", outAll, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "profile-merge");
    topology.addSink("sink-ads", outAds, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "profile-merge");
    if (full) {
      String identityTopic = c.get("identityTopic").asText();
      for (String store : new String[] {RecentBatches.STORE, ProfileMergeProcessor.HISTORY_STORE, ProfileMergeProcessor.HISTORY_DAYS_STORE}) {
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store), Serdes.String(), Serdes.ByteArray()), "profile-merge");
      }
      topology.addSink(ProfileMergeProcessor.IDENTITY_SINK, identityTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "profile-merge");
      topology.addSource("identity-changes", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), identityTopic);
      topology.addProcessor("identity-index", IdentityIndexProcessor::new, "identity-changes");
      topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(IdentityIndexProcessor.STORE), Serdes.String(), Serdes.ByteArray()), "identity-index");
    }

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, c.get("applicationId").asText());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, c.get("brokers").asText());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, c.get("guarantee").asText().equals("exactly_once") ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, c.get("commitIntervalMs").asInt());
    props.put(StreamsConfig.STATE_DIR_CONFIG, c.get("stateDir").asText());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, c.path("threads").asInt(1));
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // Kafka Streams' own default is linger.ms=100 (throughput); the latency benchmark asks for less.
    if (c.has("producerLingerMs")) props.put(StreamsConfig.producerPrefix("linger.ms"), c.get("producerLingerMs").asInt());

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch done = new CountDownLatch(1);
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING) System.out.println("{\"event\":\"running\",\"t\":" + System.currentTimeMillis() + "}");
      if (next == KafkaStreams.State.ERROR || next == KafkaStreams.State.NOT_RUNNING) done.countDown();
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("peer: " + e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      System.out.println("{\"event\":\"closed\",\"t\":" + System.currentTimeMillis() + "}");
    }));
    streams.start();
    done.await();
  }
}
