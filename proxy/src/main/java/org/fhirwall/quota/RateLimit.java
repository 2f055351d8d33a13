package org.fhirwall.quota;

/**
 * How fast and how many at once one principal may send requests.
 *
 * @param perSecond sustained requests per second
 * @param burst requests allowed at once above the sustained rate (at least 1)
 * @param concurrent requests in flight at the same time
 */
public record RateLimit(double perSecond, int burst, int concurrent) {
  public RateLimit {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: > 0)");
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst: " + burst + " (expected: >= 1)");
    }
    if (concurrent < 1) {
      throw new IllegalArgumentException("concurrent: " + concurrent + " (expected: >= 1)");
    }
  }
}
