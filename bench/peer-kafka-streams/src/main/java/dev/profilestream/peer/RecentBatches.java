package dev.profilestream.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The peer's replay-dedup list (equal-work mode), like profile-stream's batch-dedup store: per user, the
 * last 256 batch ids as 64-bit hashes with the time each was seen, 16 bytes an entry.
 */
final class RecentBatches {
  static final String STORE = "batch-dedup";
  static final int MAX = 256;

  private RecentBatches() {}

  /** FNV-1a over the id's UTF-8 bytes. */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  static boolean contains(byte[] list, long hash) {
    if (list == null) return false;
    ByteBuffer buf = ByteBuffer.wrap(list);
    for (int at = 0; at + 16 <= list.length; at += 16) if (buf.getLong(at) == hash) return true;
    return false;
  }

  /** The list with (hash, seenMs) appended, the oldest dropped beyond MAX. */
  static byte[] append(byte[] list, long hash, long seenMs) {
    int kept = list == null ? 0 : Math.min(list.length / 16, MAX - 1);
    ByteBuffer out = ByteBuffer.allocate((kept + 1) * 16);
    if (kept > 0) out.put(list, list.length - kept * 16, kept * 16);
    out.putLong(hash).putLong(seenMs);
    return out.array();
  }
}
