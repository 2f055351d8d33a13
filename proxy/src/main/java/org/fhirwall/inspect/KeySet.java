package org.fhirwall.inspect;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The distinct Strings one walk collects (its patient keys), as scratch reused walk after walk: an
 * open-addressing table that remembers which slots it filled (their order is the keys' order).
 * Emptying it starts a fresh small table rather than clearing the old one: a scratch kept per thread
 * is soon in the collector's old generation, where storing each new (young) key into it costs G1's
 * full write barrier (a StoreLoad fence per store); a table allocated between walks is young, and a
 * store into it is filtered out at once. Not thread-safe.
 */
final class KeySet {
  /** Past this many keys, emptying the set also gives the room of their order back. */
  private static final int KEEP_SLOTS = 1 << 12;

  /** The smallest table: a body mostly names one patient or a few (a larger table is zeroed for nothing). */
  private static final int MIN_SLOTS = 8;

  private String[] slots = new String[MIN_SLOTS];
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
    insert(i, key);
    return true;
  }

  /**
   * Adds {@code prefix} followed by the text of {@code bytes[from..to)}, which is ASCII (the caller
   * knows: no escape, no byte above 0x7F), making its String only when it is new: hashed and
   * compared on the bytes, as {@link String#hashCode} and {@link String#equals} would. Returns
   * whether it was new.
   */
  boolean addPrefixed(String prefix, byte[] bytes, int from, int to) {
    int h = prefix.hashCode();
    for (int j = from; j < to; j++) {
      h = 31 * h + bytes[j]; // a Latin-1 String's hash, of ASCII bytes
    }
    int mask = slots.length - 1;
    int i = (h ^ (h >>> 16)) & mask;
    String k;
    while ((k = slots[i]) != null) {
      if (k.hashCode() == h && spells(k, prefix, bytes, from, to)) {
        return false;
      }
      i = (i + 1) & mask;
    }
    insert(i, prefix + JsonText.ascii(bytes, from, to - from));
    return true;
  }

  private static boolean spells(String key, String prefix, byte[] bytes, int from, int to) {
    int p = prefix.length();
    if (key.length() != p + to - from || !key.startsWith(prefix)) {
      return false;
    }
    for (int j = from; j < to; j++) {
      if (key.charAt(p + j - from) != bytes[j]) {
        return false;
      }
    }
    return true;
  }

  private void insert(int i, String key) {
    slots[i] = key;
    if (size == filled.length) {
      filled = Arrays.copyOf(filled, size * 2);
    }
    filled[size++] = i;
    if (size * 2 > slots.length) {
      grow();
    }
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

  /**
   * The keys as an immutable set, made without copying them: this table is handed over to it, and
   * this set is not to be added to again before {@link #clear()} (which starts a fresh table).
   */
  Set<String> toSet() {
    if (size <= 2) {
      return size == 0 ? Set.of() : size == 1 ? Set.of(slots[filled[0]]) : Set.of(slots[filled[0]], slots[filled[1]]);
    }
    Set<String> frozen = new Frozen(slots, size);
    slots = null; // handed over: an add now fails rather than change the frozen set
    return frozen;
  }

  /** Empties the set: a fresh small table for the next walk (see above). */
  void clear() {
    if (filled.length > KEEP_SLOTS) {
      filled = new int[32];
    }
    // Room for as many keys as this walk found (within bounds): the next body is mostly alike.
    int room = Math.max(MIN_SLOTS, Math.min(Integer.highestOneBit(size) << 2, KEEP_SLOTS));
    slots = new String[room];
    size = 0;
  }

  /**
   * A table a KeySet handed over ({@link #toSet()}), never written again: an immutable set, read as
   * the KeySet reads its table. Thread-safe once published (as the {@link Inspection.Read} holding it is).
   */
  static final class Frozen extends AbstractSet<String> {
    private final String[] slots;
    private final int size;

    private Frozen(String[] slots, int size) {
      this.slots = slots;
      this.size = size;
    }

    @Override
    public boolean contains(Object o) {
      if (!(o instanceof String key)) {
        return false;
      }
      int mask = slots.length - 1;
      int h = key.hashCode();
      for (int i = (h ^ (h >>> 16)) & mask; slots[i] != null; i = (i + 1) & mask) {
        if (slots[i].equals(key)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public Iterator<String> iterator() {
      return new Iterator<>() {
        private int next = advance(0);

        private int advance(int from) {
          int i = from;
          while (i < slots.length && slots[i] == null) {
            i++;
          }
          return i;
        }

        @Override
        public boolean hasNext() {
          return next < slots.length;
        }

        @Override
        public String next() {
          if (next >= slots.length) {
            throw new NoSuchElementException();
          }
          String key = slots[next];
          next = advance(next + 1);
          return key;
        }
      };
    }
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
