package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fhirwall.inspect.UrlOccurrence;
import org.jspecify.annotations.Nullable;

/**
 * Replaces JSON string tokens in a body at the offsets an {@link Inspection.Read} reported, without
 * parsing it again: into a copy ({@code splice}), or as a {@link Body} that applies the edits while
 * it is written out ({@code spliced}). Stateless and thread-safe; the input array is not modified.
 */
public final class JsonSplicer {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private JsonSplicer() {}

  /**
   * One replacement: the string token at {@code at} (opening quote to just after the closing quote)
   * becomes the JSON string {@code newValue}, escaped as JSON requires.
   */
  public record Replacement(UrlOccurrence at, String newValue) {
    public Replacement {
      requireNonNull(at, "at");
      requireNonNull(newValue, "newValue");
    }
  }

  /**
   * A span of the body removed whole (a member with the comma that joins it): [from, to). It
   * travels with the replacements so that the body is copied once.
   */
  public record Cut(int from, int to) {
    public Cut {
      if (from < 0 || to < from) {
        throw new IllegalArgumentException("cut [" + from + ", " + to + ") (expected: 0 <= from <= to)");
      }
    }
  }

  /**
   * Returns a copy of {@code json} with every replacement applied (in any order given).
   *
   * @throws IllegalArgumentException when two replacements overlap, or one does not cover a
   *     quoted token inside {@code json}
   */
  public static byte[] splice(byte[] json, List<Replacement> replacements) {
    return splice(json, replacements, null);
  }

  /**
   * Returns a copy of {@code json} with every replacement applied (in any order given) and
   * {@code cut}, when there is one, removed.
   *
   * @throws IllegalArgumentException when two edits overlap, a replacement does not cover a quoted
   *     token inside {@code json}, or the cut is not inside it
   */
  public static byte[] splice(byte[] json, List<Replacement> replacements, @Nullable Cut cut) {
    return splice(json, replacements, List.of(), cut);
  }

  /**
   * Bytes inside a string token that become other bytes, already escaped as JSON requires (the
   * EPR's base at the start of a URL becoming fhirwall's): [from, to) is replaced by {@code bytes}.
   * No decoding, no re-encoding of the rest of the token.
   */
  public record Swap(int from, int to, byte[] bytes) {
    public Swap {
      if (from < 0 || to < from) {
        throw new IllegalArgumentException("swap [" + from + ", " + to + ") (expected: 0 <= from <= to)");
      }
      requireNonNull(bytes, "bytes");
    }
  }

  /** As above, with {@code swaps} applied as well; all edits must be apart. */
  public static byte[] splice(byte[] json, List<Replacement> replacements, List<Swap> swaps, @Nullable Cut cut) {
    requireNonNull(json, "json");
    requireNonNull(replacements, "replacements");
    requireNonNull(swaps, "swaps");
    if (replacements.isEmpty() && swaps.isEmpty() && cut == null) {
      return json.clone();
    }
    return spliced(json, replacements, swaps, cut).toArray();
  }

  /**
   * As {@link #splice(byte[], List, List, Cut)}, checked alike, but without the copy: the body is
   * {@code json} with the edits applied as it is written out ({@link Body#writeTo}). {@code json} must
   * not be modified afterwards.
   */
  public static Body spliced(byte[] json, List<Replacement> replacements, List<Swap> swaps, @Nullable Cut cut) {
    requireNonNull(json, "json");
    requireNonNull(replacements, "replacements");
    requireNonNull(swaps, "swaps");
    if (replacements.isEmpty() && swaps.isEmpty() && cut == null) {
      return Body.of(json);
    }
    int edits = replacements.size() + swaps.size() + (cut == null ? 0 : 1);
    int[] starts = new int[edits];
    int[] ends = new int[edits];
    byte[][] tokens = new byte[edits][];
    int e = 0;
    for (Replacement r : replacements) {
      int start = r.at().start();
      int end = r.at().end();
      if (end > json.length) {
        throw new IllegalArgumentException("replacement [" + start + ", " + end + ") (expected: inside " + json.length + " bytes)");
      }
      if (end - start < 2 || json[start] != '"' || json[end - 1] != '"') {
        throw new IllegalArgumentException("replacement [" + start + ", " + end + ") (expected: a quoted JSON string token)");
      }
      starts[e] = start;
      ends[e] = end;
      tokens[e++] = quote(r.newValue());
    }
    for (Swap w : swaps) {
      if (w.to() > json.length) {
        throw new IllegalArgumentException("swap [" + w.from() + ", " + w.to() + ") (expected: inside " + json.length + " bytes)");
      }
      starts[e] = w.from();
      ends[e] = w.to();
      tokens[e++] = w.bytes();
    }
    if (cut != null) {
      if (cut.to() > json.length) {
        throw new IllegalArgumentException("cut [" + cut.from() + ", " + cut.to() + ") (expected: inside " + json.length + " bytes)");
      }
      starts[e] = cut.from();
      ends[e] = cut.to();
      tokens[e] = EMPTY;
    }
    int[] order = new int[edits];
    boolean sorted = true;
    for (int i = 0; i < edits; i++) {
      order[i] = i;
      sorted &= i == 0 || starts[i - 1] <= starts[i];
    }
    if (!sorted) { // the inspector reports URLs in body order: this is for the cut and callers' own lists
      long[] keys = new long[edits]; // start, then index: a stable sort by start without boxing
      for (int i = 0; i < edits; i++) {
        keys[i] = (long) starts[i] << 32 | i;
      }
      java.util.Arrays.sort(keys);
      for (int i = 0; i < edits; i++) {
        order[i] = (int) keys[i];
      }
    }
    long size = json.length;
    int previousEnd = 0;
    for (int i : order) {
      if (starts[i] < previousEnd) {
        throw new IllegalArgumentException("edit [" + starts[i] + ", " + ends[i] + ") (expected: no overlap with one ending at "
            + previousEnd + ")");
      }
      size += tokens[i].length - (ends[i] - starts[i]);
      previousEnd = ends[i];
    }
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("spliced size: " + size + " (expected: < 2 GiB)");
    }
    return Body.spliced(json, starts, ends, tokens, order, (int) size);
  }

  private static final byte[] EMPTY = new byte[0];

  /** {@code value} as a JSON string token, quotes included, UTF-8. */
  static byte[] quote(String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    int extra = 2;
    for (byte b : utf8) {
      if (b == '"' || b == '\\') {
        extra += 1;
      } else if (b >= 0 && b < 0x20) {
        extra += 5;
      }
    }
    byte[] out = new byte[utf8.length + extra];
    int o = 0;
    out[o++] = '"';
    for (byte b : utf8) {
      if (b == '"' || b == '\\') {
        out[o++] = '\\';
        out[o++] = b;
      } else if (b >= 0 && b < 0x20) {
        out[o++] = '\\';
        out[o++] = 'u';
        out[o++] = '0';
        out[o++] = '0';
        out[o++] = HEX[b >> 4];
        out[o++] = HEX[b & 0xF];
      } else {
        out[o++] = b;
      }
    }
    out[o] = '"';
    return out;
  }
}
