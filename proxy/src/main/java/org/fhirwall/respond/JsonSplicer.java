package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.fhirwall.inspect.UrlOccurrence;

/**
 * Replaces JSON string tokens in a body at the offsets an {@link Inspection.Read} reported, without
 * parsing it again. Stateless and thread-safe; the input array is not modified.
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
   * Returns a copy of {@code json} with every replacement applied (in any order given).
   *
   * @throws IllegalArgumentException when two replacements overlap, or one does not cover a
   *     quoted token inside {@code json}
   */
  public static byte[] splice(byte[] json, List<Replacement> replacements) {
    requireNonNull(json, "json");
    requireNonNull(replacements, "replacements");
    if (replacements.isEmpty()) {
      return json.clone();
    }
    List<Replacement> sorted = new ArrayList<>(replacements);
    sorted.sort(Comparator.comparingInt(r -> r.at().start()));
    List<byte[]> encoded = new ArrayList<>(sorted.size());
    long size = json.length;
    int previousEnd = 0;
    for (Replacement r : sorted) {
      int start = r.at().start();
      int end = r.at().end();
      if (end > json.length) {
        throw new IllegalArgumentException("replacement [" + start + ", " + end + ") (expected: inside " + json.length + " bytes)");
      }
      if (start < previousEnd) {
        throw new IllegalArgumentException("replacement [" + start + ", " + end + ") (expected: no overlap with one ending at " + previousEnd + ")");
      }
      if (end - start < 2 || json[start] != '"' || json[end - 1] != '"') {
        throw new IllegalArgumentException("replacement [" + start + ", " + end + ") (expected: a quoted JSON string token)");
      }
      byte[] token = quote(r.newValue());
      encoded.add(token);
      size += token.length - (end - start);
      previousEnd = end;
    }
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("spliced size: " + size + " (expected: < 2 GiB)");
    }
    byte[] out = new byte[(int) size];
    int from = 0;
    int to = 0;
    for (int i = 0; i < sorted.size(); i++) {
      UrlOccurrence at = sorted.get(i).at();
      int keep = at.start() - from;
      System.arraycopy(json, from, out, to, keep);
      to += keep;
      byte[] token = encoded.get(i);
      System.arraycopy(token, 0, out, to, token.length);
      to += token.length;
      from = at.end();
    }
    System.arraycopy(json, from, out, to, json.length - from);
    return out;
  }

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
