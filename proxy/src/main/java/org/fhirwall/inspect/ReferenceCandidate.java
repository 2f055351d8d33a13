package org.fhirwall.inspect;

import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A Reference that resolved to nothing where it stands; judged by the resource that holds it.
 * {@code names} holds, per frame from the top down to the Reference, its member name's start, end
 * and {@link JsonTokens} flags in the body (start -1 for none: an array item, the top).
 */
record ReferenceCandidate(int[] names, byte kind, @Nullable String reference, int start, int end, boolean typedPatient) {
  /**
   * Whether the element names below the frame at {@code resourceDepth} down to {@code c}, arrays
   * transparent, are one of {@code owners}: compared on the body's bytes ({@code json}, read by
   * {@code tokens}), decoded only for a name that holds escapes or non-ASCII bytes.
   */
  static boolean onOwnerPath(ReferenceCandidate c, Set<List<String>> owners, int resourceDepth, byte[] json, JsonTokens tokens) {
    int[] names = c.names;
    int frameCount = names.length / 3;
    int named = 0;
    for (int i = resourceDepth + 1; i < frameCount; i++) {
      named += names[3 * i] < 0 ? 0 : 1;
    }
    for (List<String> path : owners) {
      if (path.size() != named) {
        continue;
      }
      int j = 0;
      boolean same = true;
      for (int i = resourceDepth + 1; i < frameCount && same; i++) {
        int start = names[3 * i];
        if (start >= 0) {
          same = nameIs(start, names[3 * i + 1], names[3 * i + 2], path.get(j++), json, tokens);
        }
      }
      if (same) {
        return true;
      }
    }
    return false;
  }

  private static boolean nameIs(int start, int end, int flags, String expected, byte[] json, JsonTokens tokens) {
    if (flags != 0) {
      return tokens.text(start, end, flags).equals(expected);
    }
    int n = end - start;
    if (n != expected.length()) {
      return false;
    }
    for (int k = 0; k < n; k++) {
      if (json[start + k] != expected.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}
