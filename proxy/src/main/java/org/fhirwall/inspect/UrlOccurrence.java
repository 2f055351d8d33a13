package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * A JSON string in an inspected body that holds a URL fhirwall may need to rewrite.
 *
 * <p>{@code start} and {@code end} are byte offsets into {@link Inspection.Read#json()}: {@code start}
 * at the opening quote, {@code end} just after the closing quote. {@code value} is the decoded
 * string. {@code linkRelation} is the {@code relation} of a {@code Bundle.link} when this string
 * is that link's {@code url} (any nesting depth), null for any other URL-bearing string.
 */
public record UrlOccurrence(int start, int end, String value, @Nullable String linkRelation) {
  public UrlOccurrence {
    if (start < 0 || end <= start) {
      throw new IllegalArgumentException("range: [" + start + ", " + end + ") (expected: 0 <= start < end)");
    }
    requireNonNull(value, "value");
  }

  public boolean isBundleLink() {
    return linkRelation != null;
  }
}
