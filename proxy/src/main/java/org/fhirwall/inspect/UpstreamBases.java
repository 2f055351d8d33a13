package org.fhirwall.inspect;

import java.util.Arrays;

/**
 * Whether a string value of a body starts with one of the upstream bases of a {@link WalkModel}
 * ({@code baseBytes}, {@code baseStrings}, {@code shortestBase}): such a value is a URL the
 * response must have rewritten.
 */
final class UpstreamBases {
  private UpstreamBases() {}

  /**
   * Reports a string value that starts with an upstream base. Compared on the raw bytes (a string
   * without escapes is its own UTF-8 text); a string with escapes, or a base that cannot be
   * compared so, after decoding.
   */
  static void check(JsonTokens t, byte[] json, WalkModel model, int shortestBase, UrlList.Builder urls) {
    // A decoded string has at most as many chars as it has raw bytes: most strings are too short.
    if (t.end - t.start - 2 < shortestBase) {
      return;
    }
    byte[][] bases = model.baseBytes;
    boolean escaped = (t.flags & JsonTokens.ESCAPED) != 0;
    for (int b = 0; b < bases.length; b++) {
      byte[] base = bases[b];
      if (base == null || escaped) {
        if (mayStartWithBase(json[t.start + 1], model) && startsWithBase(model, t.text())) {
          urls.add(t.start, t.end, t.flags);
        }
        return;
      }
      if (rawStartsWith(json, t.start + 1, t.end - 1, base)) {
        urls.add(t.start, t.end, t.flags);
        return;
      }
    }
  }

  /**
   * Whether a string whose raw content starts with {@code first} may decode to a text that starts
   * with a base: a plain ASCII byte other than a backslash is its text's first character, so a
   * string with escapes (a narrative's {@code div} above all) is mostly told apart without being decoded.
   */
  private static boolean mayStartWithBase(byte first, WalkModel model) {
    return !model.baseFirstAscii || first < 0 || first == '\\' || model.baseFirst[first];
  }

  /** Whether the unescaped string content {@code from..to} starts with {@code base}, as a base (see {@link #startsWithBase}). */
  private static boolean rawStartsWith(byte[] json, int from, int to, byte[] base) {
    int n = base.length;
    if (to - from < n || json[from] != base[0]) {
      return false;
    }
    // Most strings this long are other URLs: one word tells most of them apart from the base (same scheme, other host).
    if (n >= 8 && (long) JsonTokens.LONGS.get(json, from) != (long) JsonTokens.LONGS.get(base, 0)) {
      return false;
    }
    if (!Arrays.equals(json, from, from + n, base, 0, n)) {
      return false;
    }
    if (to - from == n) {
      return true;
    }
    byte c = json[from + n];
    return c == '/' || c == '?' || c == '#';
  }

  static boolean startsWithBase(WalkModel model, String value) {
    for (String base : model.baseStrings) {
      if (value.startsWith(base)) {
        if (value.length() == base.length()) {
          return true;
        }
        char next = value.charAt(base.length());
        if (next == '/' || next == '?' || next == '#') {
          return true;
        }
      }
    }
    return false;
  }
}
