package dev.profilestream.peer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * profile-stream's profile-merge step for the benchmark's workload, in Kafka Streams: decode the
 * Confluent-framed Avro batch, merge attributes (with tombstones), identities, first/last seen and
 * opt-out last-write-wins by event time (ties: source, then batch id) into the RocksDB store, and
 * forward the enriched batch to each integration its filter lets through.
 *
 * With `fullWork` it also does the rest of profile-stream's per-batch work, so the two are compared on
 * equal work: replay dedup (a per-user list of recent batch ids in its own store), the history store
 * (batch + profile snapshot, Avro through the registry, changelogged) and its per-day index, and the
 * identity changes repartitioned by identity to the identity index.
 */
final class ProfileMergeProcessor implements Processor<String, byte[], String, byte[]> {
  static final String STORE = "profiles";
  static final String HISTORY_STORE = "history";
  static final String HISTORY_DAYS_STORE = "history-days";
  static final String IDENTITY_SINK = "sink-identity-changes";
  private static final long DAY_MS = 24L * 60 * 60 * 1000;

  /** The benchmark's integrations (bench/lib/deployment.ts): allow lists, or null for "everything". */
  record Integration(String name, String sink, boolean profileOnly, Set<String> eventTypes, Set<String> attributes, Set<String> identities) {
    boolean eventType(String t) { return eventTypes == null || eventTypes.contains(t); }
    boolean attribute(String n) { return attributes == null || attributes.contains(n); }
    boolean identity(String t) { return identities == null || identities.contains(t); }
  }

  static final List<Integration> INTEGRATIONS = List.of(
      new Integration("all", "sink-all", true, null, null, null),
      new Integration("ads", "sink-ads", false, Set.of("custom_event"), Set.of("plan", "favourite_drink", "$Age"), Set.of("customer_id", "email")));
  /** The history snapshot: the batch and the whole profile, like profile-stream's HistoryRecord. */
  static final Integration HISTORY = new Integration("history", null, true, null, null, null);

  private final Registry registry;
  private final Schema enrichedSchema;
  private final Schema batchSchema;
  private final Schema profileSchema;
  private final Map<String, Integer> outputIds;
  private final boolean fullWork;
  private final Map<Integer, GenericDatumReader<GenericRecord>> readers = new HashMap<>();
  private final GenericDatumWriter<GenericRecord> writer;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, byte[]> store;
  private KeyValueStore<String, byte[]> dedup;
  private KeyValueStore<String, byte[]> history;
  private KeyValueStore<String, byte[]> historyDays;
  private BinaryDecoder decoder;
  private BinaryEncoder encoder;

  ProfileMergeProcessor(Registry registry, Schema enrichedSchema, Map<String, Integer> outputIds, boolean fullWork) {
    this.fullWork = fullWork;
    this.registry = registry;
    this.enrichedSchema = enrichedSchema;
    this.batchSchema = enrichedSchema.getField("batch").schema();
    this.profileSchema = enrichedSchema.getField("profile").schema();
    this.outputIds = outputIds;
    this.writer = new GenericDatumWriter<>(enrichedSchema);
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
    if (fullWork) {
      this.dedup = context.getStateStore(RecentBatches.STORE);
      this.history = context.getStateStore(HISTORY_STORE);
      this.historyDays = context.getStateStore(HISTORY_DAYS_STORE);
    }
  }

  @Override
  public void process(Record<String, byte[]> record) {
    GenericRecord batch = decode(record.value());
    String mpid = String.valueOf(batch.get("mpid"));
    long now = System.currentTimeMillis();
    Object requestId = fullWork ? batch.get("source_request_id") : null;
    long idHash = requestId == null ? 0 : RecentBatches.hash(requestId.toString());
    byte[] recent = requestId == null ? null : dedup.get(mpid);
    if (requestId != null && RecentBatches.contains(recent, idHash)) return;
    byte[] stored = store.get(mpid);
    ProfileState profile = stored == null ? new ProfileState() : ProfileState.fromBytes(stored);
    Map<String, String> identitiesBefore = fullWork ? identityValues(profile) : null;
    merge(profile, batch, record.timestamp());
    store.put(mpid, profile.toBytes());
    if (requestId != null) dedup.put(mpid, RecentBatches.append(recent, idHash, now));
    for (Integration integration : INTEGRATIONS) {
      GenericRecord enriched = enrich(batch, profile, integration, now);
      if (enriched != null) context.forward(record.withKey(mpid).withValue(encode(enriched, outputIds.get(integration.name()))), integration.sink());
    }
    if (!fullWork) return;
    long sequence = context.recordMetadata().map(m -> m.offset() * 100).orElse(0L);
    history.put(String.format("%s|%015d|%020d", mpid, now, sequence), encode(enrich(batch, profile, HISTORY, now), outputIds.get(HISTORY.name())));
    historyDays.put(String.format("%015d|%s", now / DAY_MS * DAY_MS, mpid), mpid.getBytes(StandardCharsets.UTF_8));
    for (Map.Entry<String, ProfileState.Identity> id : profile.identities.entrySet()) {
      String value = id.getValue().value();
      if (value == null || value.equals(identitiesBefore.get(id.getKey()))) continue;
      String owner = "{\"mpid\":\"" + mpid + "\",\"updated_ms\":" + id.getValue().stamp().updatedMs() + "}";
      context.forward(record.withKey(id.getKey() + ":" + value).withValue(owner.getBytes(StandardCharsets.UTF_8)), IDENTITY_SINK);
    }
  }

  private static Map<String, String> identityValues(ProfileState p) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, ProfileState.Identity> id : p.identities.entrySet()) out.put(id.getKey(), id.getValue().value());
    return out;
  }

  private GenericRecord decode(byte[] data) {
    ByteBuffer buf = ByteBuffer.wrap(data);
    if (buf.get() != 0) throw new IllegalArgumentException("not Confluent-framed Avro");
    int id = buf.getInt();
    GenericDatumReader<GenericRecord> reader = readers.computeIfAbsent(id, i -> new GenericDatumReader<>(registry.schemaById(i), batchSchema));
    decoder = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, decoder);
    try {
      return reader.read(null, decoder);
    } catch (IOException e) {
      throw new IllegalArgumentException("undecodable batch", e);
    }
  }

  private byte[] encode(GenericRecord value, int schemaId) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(schemaId).array(), 0, 4);
    encoder = EncoderFactory.get().binaryEncoder(out, encoder);
    try {
      writer.write(value, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  // ---- merge (src/profiles/merge-batch.ts, attribute-merge.ts, identity-merge.ts, opt-out-merge.ts) ----

  private static Long eventTime(GenericRecord event, long batchMs) {
    Object t = ((GenericRecord) event.get("data")).get("timestamp_unixtime_ms");
    return t == null ? batchMs : (Long) t;
  }

  @SuppressWarnings("unchecked")
  static void merge(ProfileState p, GenericRecord batch, long recordTimestamp) {
    List<GenericRecord> events = (List<GenericRecord>) batch.get("events");
    Object ts = batch.get("timestamp_unixtime_ms");
    long batchMs;
    if (ts != null) {
      batchMs = (Long) ts;
    } else {
      Long newest = null;
      for (GenericRecord e : events) {
        Object t = ((GenericRecord) e.get("data")).get("timestamp_unixtime_ms");
        if (t != null && (newest == null || (Long) t > newest)) newest = (Long) t;
      }
      batchMs = newest != null ? newest : recordTimestamp;
    }
    String source = batch.get("source").toString();
    String batchId = batch.get("source_request_id").toString();
    long first = batchMs;
    long last = batchMs;
    for (GenericRecord e : events) {
      long at = eventTime(e, batchMs);
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    p.created = Math.min(p.created, first);
    p.lastSeen = Math.max(p.lastSeen, last);

    // Identities: the batch's one write per type (events in order, then user_identities at batch time).
    Map<String, ProfileState.Identity> idWrites = new LinkedHashMap<>();
    for (GenericRecord e : events) {
      if (!e.get("event_type").toString().equals("user_identity_change")) continue;
      GenericRecord data = (GenericRecord) e.get("data");
      long at = eventTime(e, batchMs);
      GenericRecord next = (GenericRecord) data.get("new");
      GenericRecord old = (GenericRecord) data.get("old");
      if (next != null) {
        Object t = next.get("timestamp_unixtime_ms");
        Object v = next.get("identity");
        offer(idWrites, next.get("identity_type").toString(), new ProfileState.Identity(v == null ? null : v.toString(), new ProfileState.Stamp(t == null ? at : (Long) t, source, batchId)));
      } else if (old != null) {
        offer(idWrites, old.get("identity_type").toString(), new ProfileState.Identity(null, new ProfileState.Stamp(at, source, batchId)));
      }
    }
    GenericRecord ids = (GenericRecord) batch.get("user_identities");
    ProfileState.Stamp batchStamp = new ProfileState.Stamp(batchMs, source, batchId);
    for (Schema.Field f : ids.getSchema().getFields()) {
      Object v = ids.get(f.pos());
      if (v != null) offer(idWrites, f.name(), new ProfileState.Identity(v.toString(), batchStamp));
    }
    for (Map.Entry<String, ProfileState.Identity> w : idWrites.entrySet()) {
      ProfileState.Identity current = p.identities.get(w.getKey());
      if (current == null || w.getValue().stamp().compareTo(current.stamp()) > 0) p.identities.put(w.getKey(), w.getValue());
    }

    // Opt-out: latest opt_out event wins; at equal times opting out wins.
    for (GenericRecord e : events) {
      if (!e.get("event_type").toString().equals("opt_out")) continue;
      long at = eventTime(e, batchMs);
      boolean value = (Boolean) ((GenericRecord) e.get("data")).get("is_opted_out");
      if (p.optOutUpdated == Long.MIN_VALUE || at > p.optOutUpdated || (at == p.optOutUpdated && value && !p.optedOut)) {
        p.optedOut = value;
        p.optOutUpdated = at;
      }
    }

    // Attributes: change events, then the batch's attributes, then its deletions; strictly newer replaces.
    Map<String, ProfileState.Attribute> writes = new LinkedHashMap<>();
    Map<String, Boolean> deleted = new HashMap<>();
    for (GenericRecord e : events) {
      if (!e.get("event_type").toString().equals("user_attribute_change")) continue;
      GenericRecord data = (GenericRecord) e.get("data");
      String name = data.get("user_attribute_name").toString();
      boolean del = (Boolean) data.get("deleted");
      offerAttribute(writes, deleted, name, del, del ? null : plain(data.get("new")), new ProfileState.Stamp(eventTime(e, batchMs), source, batchId));
    }
    Map<?, ?> attrs = (Map<?, ?>) batch.get("user_attributes");
    for (Map.Entry<?, ?> a : attrs.entrySet()) offerAttribute(writes, deleted, a.getKey().toString(), false, plain(a.getValue()), batchStamp);
    for (Object name : (List<?>) batch.get("deleted_user_attributes")) offerAttribute(writes, deleted, name.toString(), true, null, batchStamp);
    for (Map.Entry<String, ProfileState.Attribute> w : writes.entrySet()) {
      String name = w.getKey();
      ProfileState.Stamp stamp = w.getValue().stamp();
      ProfileState.Attribute set = p.attributes.get(name);
      ProfileState.Stamp removal = p.tombstones.get(name);
      if (set != null && stamp.compareTo(set.stamp()) <= 0) continue;
      if (removal != null && stamp.compareTo(removal) <= 0) continue;
      if (deleted.get(name)) {
        p.attributes.remove(name);
        p.tombstones.put(name, stamp);
      } else {
        p.tombstones.remove(name);
        p.attributes.put(name, w.getValue());
      }
    }
  }

  private static void offer(Map<String, ProfileState.Identity> writes, String type, ProfileState.Identity w) {
    ProfileState.Identity current = writes.get(type);
    if (current == null || w.stamp().updatedMs() >= current.stamp().updatedMs()) writes.put(type, w);
  }

  private static void offerAttribute(Map<String, ProfileState.Attribute> writes, Map<String, Boolean> deleted, String name, boolean del, Object value, ProfileState.Stamp stamp) {
    ProfileState.Attribute current = writes.get(name);
    if (current == null || stamp.updatedMs() >= current.stamp().updatedMs()) {
      writes.put(name, new ProfileState.Attribute(value, stamp));
      deleted.put(name, del);
    }
  }

  /** Avro's Utf8 and GenericArray as plain Java values (String, List<String>). */
  private static Object plain(Object v) {
    if (v instanceof CharSequence s) return s.toString();
    if (v instanceof List<?> list) {
      List<String> out = new ArrayList<>(list.size());
      for (Object o : list) out.add(o.toString());
      return out;
    }
    return v;
  }

  // ---- enrich (src/profiles/enrich.ts, integration-filter.ts) ----

  @SuppressWarnings("unchecked")
  private GenericRecord enrich(GenericRecord batch, ProfileState p, Integration integration, long now) {
    List<GenericRecord> events = new ArrayList<>();
    for (GenericRecord e : (List<GenericRecord>) batch.get("events")) {
      String type = e.get("event_type").toString();
      if (!integration.eventType(type)) continue;
      GenericRecord data = (GenericRecord) e.get("data");
      if (type.equals("user_attribute_change") && !integration.attribute(data.get("user_attribute_name").toString())) continue;
      if (type.equals("user_identity_change")) {
        GenericRecord side = data.get("new") != null ? (GenericRecord) data.get("new") : (GenericRecord) data.get("old");
        if (side != null && !integration.identity(side.get("identity_type").toString())) continue;
      }
      events.add(e);
    }
    if (events.isEmpty() && !integration.profileOnly()) return null;

    GenericRecord out = new GenericData.Record(batchSchema);
    for (Schema.Field f : batchSchema.getFields()) out.put(f.pos(), batch.get(f.pos()));
    out.put("events", events);
    Map<Object, Object> attrs = new HashMap<>();
    for (Map.Entry<?, ?> a : ((Map<?, ?>) batch.get("user_attributes")).entrySet()) if (integration.attribute(a.getKey().toString())) attrs.put(a.getKey(), a.getValue());
    out.put("user_attributes", attrs);
    List<Object> deletedNames = new ArrayList<>();
    for (Object name : (List<?>) batch.get("deleted_user_attributes")) if (integration.attribute(name.toString())) deletedNames.add(name);
    out.put("deleted_user_attributes", deletedNames);
    GenericRecord ids = (GenericRecord) batch.get("user_identities");
    GenericRecord filteredIds = new GenericData.Record(ids.getSchema());
    for (Schema.Field f : ids.getSchema().getFields()) filteredIds.put(f.pos(), integration.identity(f.name()) ? ids.get(f.pos()) : null);
    out.put("user_identities", filteredIds);

    GenericRecord profile = new GenericData.Record(profileSchema);
    profile.put("mpid", batch.get("mpid"));
    profile.put("created_timestamp_ms", p.created);
    profile.put("last_seen_timestamp_ms", p.lastSeen);
    profile.put("is_opted_out", p.optedOut);
    profile.put("limit_ad_tracking", false);
    Schema attrSchema = profileSchema.getField("user_attributes").schema().getValueType();
    Map<String, GenericRecord> profileAttrs = new HashMap<>();
    for (Map.Entry<String, ProfileState.Attribute> a : p.attributes.entrySet()) {
      if (!integration.attribute(a.getKey())) continue;
      GenericRecord r = new GenericData.Record(attrSchema);
      r.put("value", a.getValue().value());
      r.put("updated_ms", a.getValue().stamp().updatedMs());
      r.put("source", a.getValue().stamp().source());
      profileAttrs.put(a.getKey(), r);
    }
    profile.put("user_attributes", profileAttrs);
    Schema idSchema = profileSchema.getField("user_identities").schema().getValueType();
    Map<String, GenericRecord> profileIds = new HashMap<>();
    for (Map.Entry<String, ProfileState.Identity> i : p.identities.entrySet()) {
      if (i.getValue().value() == null || !integration.identity(i.getKey())) continue;
      GenericRecord r = new GenericData.Record(idSchema);
      r.put("value", i.getValue().value());
      r.put("updated_ms", i.getValue().stamp().updatedMs());
      profileIds.put(i.getKey(), r);
    }
    profile.put("user_identities", profileIds);
    // Not merged by the peer (see BENCHMARKS.md): consent and device come from this batch alone.
    Object consent = batch.get("consent_state");
    profile.put("consent_state", consent != null ? consent : emptyConsent(profileSchema.getField("consent_state").schema()));
    profile.put("device_info", batch.get("device_info"));
    profile.put("audience_memberships", List.of());
    profile.put("calculated_attributes", Map.of());

    GenericRecord enriched = new GenericData.Record(enrichedSchema);
    enriched.put("batch", out);
    enriched.put("integration", integration.name());
    enriched.put("processed_timestamp_ms", now);
    enriched.put("profile", profile);
    return enriched;
  }

  private static GenericRecord emptyConsent(Schema consentSchema) {
    GenericRecord c = new GenericData.Record(consentSchema);
    c.put("gdpr", Map.of());
    Schema ccpaSchema = consentSchema.getField("ccpa").schema();
    GenericRecord ccpa = new GenericData.Record(ccpaSchema);
    c.put("ccpa", ccpa);
    return c;
  }
}
