package org.fhirwall.respond;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/** Which response headers leave fhirwall, and the ones every answer carries. */
final class Headers {
  /** EPR headers passed through as they are; everything else is dropped. */
  private static final String[] PASSED = {"etag", "last-modified", "retry-after", "x-progress", "expires"};
  /** EPR headers passed through with the EPR's base replaced by fhirwall's. */
  private static final String[] REWRITTEN = {"location", "content-location"};

  private Headers() {}

  /** {@code Cache-Control: no-store}, {@code X-Content-Type-Options: nosniff}, {@code X-Request-Id}. */
  static void standard(List<Map.Entry<String, String>> headers, @Nullable String requestId) {
    headers.add(Map.entry("Cache-Control", "no-store"));
    headers.add(Map.entry("X-Content-Type-Options", "nosniff"));
    if (requestId != null) {
      headers.add(Map.entry("X-Request-Id", requestId));
    }
  }

  /** The EPR headers a client may see, URLs rewritten by {@code rewrite}. */
  static void passed(List<Map.Entry<String, String>> from, UnaryOperator<String> rewrite, List<Map.Entry<String, String>> into) {
    for (Map.Entry<String, String> e : from) {
      String name = e.getKey();
      if (among(PASSED, name)) {
        into.add(e);
      } else if (among(REWRITTEN, name)) {
        into.add(Map.entry(name, rewrite.apply(e.getValue())));
      }
    }
  }

  /** Whether {@code name} is one of {@code names} in any case (no lower-cased copy per header). */
  private static boolean among(String[] names, String name) {
    for (String n : names) {
      if (n.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
