package org.fhirwall.demo;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * The entries under one index key, kept sorted by creation order in a plain array: four bytes a
 * member instead of a hash node, appends in O(1) (loads and creates arrive in order) and
 * iteration already in the order searches answer. Not thread-safe (guarded by the store's lock).
 */
final class EntrySet {

  private StoredEntry[] items = new StoredEntry[2];
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(StoredEntry entry) {
    int at;
    if (size == 0 || items[size - 1].seq < entry.seq) {
      at = size;
    } else {
      int found = find(entry.seq);
      if (found >= 0) {
        return;
      }
      at = -found - 1;
    }
    if (size == items.length) {
      items = Arrays.copyOf(items, size + Math.max(2, size >> 1));
    }
    System.arraycopy(items, at, items, at + 1, size - at);
    items[at] = entry;
    size++;
  }

  void remove(StoredEntry entry) {
    int at = find(entry.seq);
    if (at >= 0) {
      System.arraycopy(items, at + 1, items, at, size - at - 1);
      items[--size] = null;
    }
  }

  void addTo(Collection<StoredEntry> out) {
    for (int i = 0; i < size; i++) {
      out.add(items[i]);
    }
  }

  /** A copy, in creation order. */
  List<StoredEntry> toList() {
    return List.of(Arrays.copyOf(items, size));
  }

  private int find(long seq) {
    int low = 0;
    int high = size - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      long midSeq = items[mid].seq;
      if (midSeq < seq) {
        low = mid + 1;
      } else if (midSeq > seq) {
        high = mid - 1;
      } else {
        return mid;
      }
    }
    return -(low + 1);
  }
}
