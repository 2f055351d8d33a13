package org.fhirwall.inspect;

import java.util.Arrays;
import java.util.Collection;

/**
 * The distinct Strings one walk collects (its patient keys), as scratch reused walk after walk: an
 * open-addressing table that remembers which slots it filled, so that emptying it costs what it
 * held, not the size its largest body made it grow to. Not thread-safe.
 */
final class KeySet {
  /** Past this many slots, emptying the set also gives its room back. */
  private static final int KEEP_SLOTS = 1 << 12;

  private String[] slots = new String[64];
  /** The filled slots' indexes, in the order the keys came. */
  private int[] filled = new int[32];
  private int size;

  /** Adds {@code key}; returns whether it was new. */
  boolean add(String key) {
    int mask = slots.length - 1;
    int h = key.hashCode();
    int i = (h ^ (h >>> 16)) & mask;
    String k;
    while ((k = slots[i]) != null) {
      if (k.equals(key)) {
        return false;
      }
      i = (i + 1) & mask;
    }
    slots[i] = key;
    if (size == filled.length) {
      filled = Arrays.copyOf(filled, size * 2);
    }
    filled[size++] = i;
    if (size * 2 > slots.length) {
      grow();
    }
    return true;
  }

  void addAll(Collection<String> keys) {
    for (String key : keys) {
      add(key);
    }
  }

  int size() {
    return size;
  }

  /** The keys, in the order they came. */
  String[] toArray() {
    String[] out = new String[size];
    for (int j = 0; j < size; j++) {
      out[j] = slots[filled[j]];
    }
    return out;
  }

  /** Empties the set, in time proportional to what it held. */
  void clear() {
    if (slots.length > KEEP_SLOTS) {
      slots = new String[64];
      filled = new int[32];
    } else {
      for (int j = 0; j < size; j++) {
        slots[filled[j]] = null;
      }
    }
    size = 0;
  }

  private void grow() {
    String[] keys = toArray();
    slots = new String[slots.length * 2];
    int mask = slots.length - 1;
    for (int j = 0; j < keys.length; j++) {
      int h = keys[j].hashCode();
      int i = (h ^ (h >>> 16)) & mask;
      while (slots[i] != null) {
        i = (i + 1) & mask;
      }
      slots[i] = keys[j];
      filled[j] = i;
    }
  }
}
