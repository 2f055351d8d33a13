package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * How the {@link ResponseInspector} reads bodies.
 *
 * @param upstreamBases the EPR's base URLs as they appear in its responses (e.g.
 *     {@code http://epr:8080/fhir}); a trailing {@code /} is dropped. A string value that starts
 *     with one of them, followed by the end of the string, {@code /}, {@code ?} or {@code #}, is
 *     reported as a {@link UrlOccurrence}
 * @param maxDecodedBytes the largest body, after content decoding (and XML-to-JSON conversion),
 *     that is read; anything bigger is unreadable
 * @param maxDepth the deepest JSON nesting (objects and arrays) that is read; anything deeper is
 *     unreadable
 */
public record InspectorSettings(List<String> upstreamBases, long maxDecodedBytes, int maxDepth) {
  public InspectorSettings {
    requireNonNull(upstreamBases, "upstreamBases");
    List<String> bases = new ArrayList<>(upstreamBases.size());
    for (String base : upstreamBases) {
      requireNonNull(base, "upstreamBases element");
      String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
      if (b.isEmpty()) {
        throw new IllegalArgumentException("upstreamBases: '" + base + "' (expected: an absolute base URL)");
      }
      bases.add(b);
    }
    upstreamBases = List.copyOf(bases);
    if (maxDecodedBytes <= 0 || maxDecodedBytes > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("maxDecodedBytes: " + maxDecodedBytes + " (expected: 1.." + (Integer.MAX_VALUE - 16) + ")");
    }
    if (maxDepth <= 0) {
      throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: > 0)");
    }
  }
}
