package org.fhirwall.inspect;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable map from strings to small int codes, for the walk's hot lookups: JSON member names
 * and resource type names read straight from the body's UTF-8 bytes (by
 * {@link #code(byte[], int, int, int)} and {@link #find(byte[], int, int)}, without allocating), or
 * from a String when the bytes hold escapes. Open addressing on a power-of-two table at most a
 * quarter full; a miss usually costs one comparison of hashes. Keys are ASCII (their bytes are their
 * chars). Thread-safe.
 */
final class NameTable {
  private final String[] keys;
  private final byte[][] keyBytes;
  private final int[] hashes;
  private final int[] codes;
  private final int mask;

  /** {@code entries}' codes must not be 0: 0 is the answer for an absent key. */
  NameTable(Map<String, Integer> entries) {
    int size = 16;
    while (size < entries.size() * 4) {
      size <<= 1;
    }
    keys = new String[size];
    keyBytes = new byte[size][];
    hashes = new int[size];
    codes = new int[size];
    mask = size - 1;
    for (Map.Entry<String, Integer> e : entries.entrySet()) {
      if (e.getValue() == 0) {
        throw new IllegalArgumentException("code of '" + e.getKey() + "': 0 (expected: not 0)");
      }
      int i = spread(e.getKey().hashCode()) & mask;
      while (keys[i] != null) {
        i = (i + 1) & mask;
      }
      if (!e.getKey().chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        throw new IllegalArgumentException("key '" + e.getKey() + "' (expected: printable ASCII)");
      }
      keys[i] = e.getKey();
      keyBytes[i] = e.getKey().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      hashes[i] = e.getKey().hashCode();
      codes[i] = e.getValue();
    }
  }

  /** The code of {@code name}, 0 when absent. */
  int code(@Nullable String name) {
    if (name == null) {
      return 0;
    }
    int i = spread(name.hashCode()) & mask;
    String k;
    while ((k = keys[i]) != null) {
      if (k.equals(name)) {
        return codes[i];
      }
      i = (i + 1) & mask;
    }
    return 0;
  }

  /**
   * The code of the key spelled by the bytes {@code buf[off..off+len)}, whose {@link String#hashCode}
   * style hash ({@code h = 31 * h + byte}) is {@code hash}; 0 when absent.
   */
  int code(byte[] buf, int off, int len, int hash) {
    int i = spread(hash) & mask;
    byte[] k;
    while ((k = keyBytes[i]) != null) {
      if (hashes[i] == hash && k.length == len && java.util.Arrays.equals(k, 0, len, buf, off, off + len)) {
        return codes[i];
      }
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** The key spelled by the bytes {@code buf[off..off+len)}, or null when there is none. */
  @Nullable String find(byte[] buf, int off, int len) {
    int h = 0;
    for (int i = off; i < off + len; i++) {
      h = 31 * h + buf[i];
    }
    int i = spread(h) & mask;
    byte[] k;
    while ((k = keyBytes[i]) != null) {
      if (hashes[i] == h && k.length == len && java.util.Arrays.equals(k, 0, len, buf, off, off + len)) {
        return keys[i];
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  /** The table's own String equal to {@code name}, or null when there is none. */
  @Nullable String key(String name) {
    int i = spread(name.hashCode()) & mask;
    String k;
    while ((k = keys[i]) != null) {
      if (k.equals(name)) {
        return k;
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}
