package org.fhirwall.policy;

/**
 * Request-side search rules of a role.
 *
 * @param maxCount a larger {@code _count} is lowered to this (not refused), and a search without
 *     {@code _count} gets it, so no single page can carry more
 * @param maxPages the most pages of one search a principal may follow through paging links
 */
public record SearchRules(int maxCount, int maxPages) {
  public static final int DEFAULT_MAX_COUNT = 100;
  public static final int DEFAULT_MAX_PAGES = 50;
  public static final SearchRules DEFAULTS = new SearchRules(DEFAULT_MAX_COUNT, DEFAULT_MAX_PAGES);

  public SearchRules {
    if (maxCount < 1) {
      throw new IllegalArgumentException("maxCount: " + maxCount + " (expected: >= 1)");
    }
    if (maxPages < 1) {
      throw new IllegalArgumentException("maxPages: " + maxPages + " (expected: >= 1)");
    }
  }
}
