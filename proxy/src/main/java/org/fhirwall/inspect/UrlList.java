package org.fhirwall.inspect;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;
import org.jspecify.annotations.Nullable;

/**
 * The URLs a walk found ({@link Inspection.Read#urls()}), kept as ranges of the body rather than as
 * {@link UrlOccurrence}s: each occurrence, its value and its link relation are made when asked for
 * (most bodies have one URL per entry, its full URL, and most reads only need some of them). Its
 * own arrays, never written after it is made: immutable and thread-safe, like {@code List.of}; its
 * elements are made afresh on each {@link #get}, equal to one another.
 */
final class UrlList extends AbstractList<UrlOccurrence> implements RandomAccess {
  /** Ints per URL: its token's start and end (quotes included) and flags, its relation's content range and flags (start -1: none). */
  private static final int WIDTH = 6;

  private final byte[] json;
  private final int[] spans;
  private final int size;

  private UrlList(byte[] json, int[] spans, int size) {
    this.json = json;
    this.spans = spans;
    this.size = size;
  }

  @Override
  public UrlOccurrence get(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException("index " + index + ", size " + size);
    }
    int at = index * WIDTH;
    return new UrlOccurrence(spans[at], spans[at + 1], value(json, spans, at), relation(at));
  }

  @Override
  public int size() {
    return size;
  }

  /** The start of URL {@code index}'s token (its opening quote), without making its occurrence. */
  int start(int index) {
    return spans[checked(index) * WIDTH];
  }

  /** Whether URL {@code index} is a Bundle link's (has a relation), without making its occurrence. */
  boolean isBundleLink(int index) {
    return spans[checked(index) * WIDTH + 3] >= 0;
  }

  private int checked(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException("index " + index + ", size " + size);
    }
    return index;
  }

  /** Whether a link among these URLs has {@code relation} (without making the occurrences). */
  boolean hasRelation(String relation) {
    for (int at = 0; at < size * WIDTH; at += WIDTH) {
      if (spans[at + 3] >= 0 && relation.equals(relation(at))) {
        return true;
      }
    }
    return false;
  }

  private @Nullable String relation(int at) {
    return spans[at + 3] < 0 ? null : JsonText.text(json, spans[at + 3], spans[at + 4], spans[at + 5]);
  }

  private static String value(byte[] json, int[] spans, int at) {
    return JsonText.text(json, spans[at] + 1, spans[at + 1] - 1, spans[at + 2]);
  }

  /**
   * The URLs of one walk as it goes, in ints only (a store of an int into this long-lived scratch
   * costs no write barrier). Not thread-safe; {@link #clear()} empties it for the next walk.
   */
  static final class Builder {
    private int[] spans = new int[16 * WIDTH];
    private int size;

    /** Adds the URL string token {@code start..end} (quotes included) with {@link JsonTokens} {@code flags}; returns its index. */
    int add(int start, int end, int flags) {
      return add(start, end, flags, -1, -1, 0);
    }

    /** Adds a link's url token, with its relation's content {@code relationStart..relationEnd} (start -1: none). */
    int add(int start, int end, int flags, int relationStart, int relationEnd, int relationFlags) {
      int at = size * WIDTH;
      if (at == spans.length) {
        spans = Arrays.copyOf(spans, at * 2);
      }
      spans[at] = start;
      spans[at + 1] = end;
      spans[at + 2] = flags;
      spans[at + 3] = relationStart;
      spans[at + 4] = relationEnd;
      spans[at + 5] = relationFlags;
      return size++;
    }

    int size() {
      return size;
    }

    /** The value of the URL at {@code index} in {@code json}. */
    String value(byte[] json, int index) {
      return UrlList.value(json, spans, index * WIDTH);
    }

    /** The URLs so far, of {@code json}, as an immutable list of their own. */
    List<UrlOccurrence> toList(byte[] json) {
      return size == 0 ? List.of() : new UrlList(json, Arrays.copyOf(spans, size * WIDTH), size);
    }

    /** Empties it, keeping its room unless a large body made it grow past {@code keepAtMost} URLs. */
    void clear(int keepAtMost) {
      if (spans.length > keepAtMost * WIDTH) {
        spans = new int[16 * WIDTH];
      }
      size = 0;
    }
  }
}
