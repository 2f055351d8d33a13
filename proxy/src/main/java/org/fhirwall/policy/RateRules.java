package org.fhirwall.policy;

import org.fhirwall.quota.RateLimit;

/**
 * How fast one principal of a role may send requests (the {@code rate} section of a role policy).
 * The policy only holds the figures; the request stage enforces them per principal.
 *
 * @param requestsPerSecond sustained requests per second
 * @param burst requests allowed at once above the sustained rate
 * @param concurrent requests in flight at the same time
 */
public record RateRules(double requestsPerSecond, int burst, int concurrent) {
  public RateRules {
    if (!(requestsPerSecond > 0) || Double.isInfinite(requestsPerSecond)) {
      throw new IllegalArgumentException("requestsPerSecond: " + requestsPerSecond + " (expected: > 0)");
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst: " + burst + " (expected: >= 1)");
    }
    if (concurrent < 1) {
      throw new IllegalArgumentException("concurrent: " + concurrent + " (expected: >= 1)");
    }
  }

  /** These figures as the quota stage's limit. */
  public RateLimit toLimit() {
    return new RateLimit(requestsPerSecond, burst, concurrent);
  }
}
