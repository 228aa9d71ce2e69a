package dev.profilestream.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The peer's profile: what its merge keeps (attributes with tombstones, identities, first/last seen,
 * opt-out), each register with the write stamp (time, source, batch id) that last-write-wins compares.
 * Stored as compact DataOutput bytes in the RocksDB store.
 */
final class ProfileState {
  record Stamp(long updatedMs, String source, String batchId) implements Comparable<Stamp> {
    @Override
    public int compareTo(Stamp o) {
      if (updatedMs != o.updatedMs) return Long.compare(updatedMs, o.updatedMs);
      int s = source.compareTo(o.source);
      return s != 0 ? s : batchId.compareTo(o.batchId);
    }
  }

  record Attribute(Object value, Stamp stamp) {}

  record Identity(String value, Stamp stamp) {}

  long created = Long.MAX_VALUE;
  long lastSeen = Long.MIN_VALUE;
  boolean optedOut;
  long optOutUpdated = Long.MIN_VALUE;
  final Map<String, Attribute> attributes = new HashMap<>();
  final Map<String, Stamp> tombstones = new HashMap<>();
  final Map<String, Identity> identities = new HashMap<>();

  byte[] toBytes() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeLong(created);
      out.writeLong(lastSeen);
      out.writeBoolean(optedOut);
      out.writeLong(optOutUpdated);
      out.writeInt(attributes.size());
      for (Map.Entry<String, Attribute> e : attributes.entrySet()) {
        out.writeUTF(e.getKey());
        writeValue(out, e.getValue().value());
        writeStamp(out, e.getValue().stamp());
      }
      out.writeInt(tombstones.size());
      for (Map.Entry<String, Stamp> e : tombstones.entrySet()) {
        out.writeUTF(e.getKey());
        writeStamp(out, e.getValue());
      }
      out.writeInt(identities.size());
      for (Map.Entry<String, Identity> e : identities.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeBoolean(e.getValue().value() != null);
        if (e.getValue().value() != null) out.writeUTF(e.getValue().value());
        writeStamp(out, e.getValue().stamp());
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static ProfileState fromBytes(byte[] data) {
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      ProfileState p = new ProfileState();
      p.created = in.readLong();
      p.lastSeen = in.readLong();
      p.optedOut = in.readBoolean();
      p.optOutUpdated = in.readLong();
      for (int i = in.readInt(); i > 0; i--) p.attributes.put(in.readUTF(), new Attribute(readValue(in), readStamp(in)));
      for (int i = in.readInt(); i > 0; i--) p.tombstones.put(in.readUTF(), readStamp(in));
      for (int i = in.readInt(); i > 0; i--) {
        String type = in.readUTF();
        String value = in.readBoolean() ? in.readUTF() : null;
        p.identities.put(type, new Identity(value, readStamp(in)));
      }
      return p;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeStamp(DataOutputStream out, Stamp s) throws IOException {
    out.writeLong(s.updatedMs());
    out.writeUTF(s.source());
    out.writeUTF(s.batchId());
  }

  private static Stamp readStamp(DataInputStream in) throws IOException {
    return new Stamp(in.readLong(), in.readUTF(), in.readUTF());
  }

  private static void writeValue(DataOutputStream out, Object v) throws IOException {
    if (v == null) {
      out.writeByte(0);
    } else if (v instanceof String s) {
      out.writeByte(1);
      out.writeUTF(s);
    } else if (v instanceof Double d) {
      out.writeByte(2);
      out.writeDouble(d);
    } else if (v instanceof Boolean b) {
      out.writeByte(3);
      out.writeBoolean(b);
    } else if (v instanceof List<?> list) {
      out.writeByte(4);
      out.writeInt(list.size());
      for (Object o : list) out.writeUTF(o.toString());
    } else {
      throw new IllegalArgumentException("attribute value of type " + v.getClass());
    }
  }

  private static Object readValue(DataInputStream in) throws IOException {
    switch (in.readByte()) {
      case 0: return null;
      case 1: return in.readUTF();
      case 2: return in.readDouble();
      case 3: return in.readBoolean();
      case 4: {
        int n = in.readInt();
        List<String> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(in.readUTF());
        return list;
      }
      default: throw new IOException("bad value tag");
    }
  }
}
