package org.fhirwall.policy;

/**
 * Rules for batch and transaction bundles (the {@code batch} section of a role policy). Every entry
 * is also decided as if it were sent alone; one refused entry refuses the whole bundle.
 *
 * @param maxEntries the most entries one batch or transaction may carry
 */
public record BatchRules(int maxEntries) {
  public BatchRules {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 1)");
    }
  }
}
