package org.fhirwall.inspect;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable map from strings to small int codes, for the walk's hot lookups: JSON member names
 * (by {@link #code(String)}) and resource type names read straight from Jackson's char buffer (by
 * {@link #find(char[], int, int)}, without allocating). Open addressing on a power-of-two table at
 * most a quarter full; Jackson's canonical (interned) member names usually match by identity.
 * Thread-safe.
 */
final class NameTable {
  private final String[] keys;
  private final int[] codes;
  private final int mask;

  /** {@code entries}' codes must not be 0: 0 is the answer for an absent key. */
  NameTable(Map<String, Integer> entries) {
    int size = 16;
    while (size < entries.size() * 4) {
      size <<= 1;
    }
    keys = new String[size];
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
      keys[i] = e.getKey();
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
      if (k == name || k.equals(name)) {
        return codes[i];
      }
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** The key spelled by {@code buf[off..off+len)}, or null when there is none. */
  @Nullable String find(char[] buf, int off, int len) {
    int h = 0;
    for (int i = off; i < off + len; i++) {
      h = 31 * h + buf[i];
    }
    int i = spread(h) & mask;
    String k;
    while ((k = keys[i]) != null) {
      if (k.length() == len && same(k, buf, off)) {
        return k;
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  private static boolean same(String k, char[] buf, int off) {
    for (int i = 0; i < k.length(); i++) {
      if (k.charAt(i) != buf[off + i]) {
        return false;
      }
    }
    return true;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }
}
