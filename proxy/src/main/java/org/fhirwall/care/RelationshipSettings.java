package org.fhirwall.care;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How relationships are learned ({@code relationships} in the deployment file). Immutable.
 *
 * @param practitioners token subject → {@code Practitioner/id} (or {@code PractitionerRole/id}),
 *     for tokens without a {@code fhirUser} claim; a mapping wins over the claim
 * @param useFhirUser take the practitioner from the token's {@code fhirUser} claim
 * @param searches the FHIR searches whose results link the practitioner to patients
 * @param locationsQuery the search for the practitioner's active roles, whose {@code location}s
 *     fill {@code {locations}} in the searches
 * @param ttl how long learned relationships are used before they are refreshed (in the background)
 * @param maxAge how long they may be used at all when refreshing fails; past it a request waits
 *     for a fresh load (the only time it is on a request's path)
 * @param timeout the longest one principal's load may take (then: unknown, fail closed)
 * @param maxPages the most pages read per search (beyond: fewer relationships, never more)
 * @param pageSize the {@code _count} of each search
 * @param writeDelay how long a relationship resource must have existed unchanged (its
 *     {@code meta.lastUpdated}) before it counts
 * @param maxPrincipals the most principals cached at once
 */
public record RelationshipSettings(Map<String, String> practitioners, boolean useFhirUser, List<Search> searches,
    String locationsQuery, Duration ttl, Duration maxAge, Duration timeout, int maxPages, int pageSize,
    Duration writeDelay, int maxPrincipals) {

  /** The types whose writes make or change a relationship (and are audited as such). */
  public static final java.util.Set<String> RELATIONSHIP_TYPES =
      java.util.Set.of("Encounter", "CareTeam", "EpisodeOfCare", "PractitionerRole");

  /**
   * One search: {@code query} relative to the EPR's base with {@code {practitioner}} (and
   * optionally {@code {locations}}) in it; {@code patientElement} the element of each match that
   * names the patient ({@code subject}, {@code patient}).
   */
  public record Search(String name, String query, String patientElement) {
    public Search {
      requireNonNull(name, "name");
      requireNonNull(query, "query");
      requireNonNull(patientElement, "patientElement");
      if (!query.contains("{practitioner}") && !query.contains("{locations}")) {
        throw new IllegalArgumentException("query: " + query + " (expected: {practitioner} or {locations} in it)");
      }
    }

    boolean needsLocations() {
      return query.contains("{locations}");
    }
  }

  /** The default searches: active encounters, care teams, episodes of care, and the wards of active roles. */
  public static final List<Search> DEFAULT_SEARCHES = List.of(
      new Search("encounter", "Encounter?participant={practitioner}&status=in-progress", "subject"),
      new Search("care-team", "CareTeam?participant={practitioner}&status=active", "subject"),
      new Search("episode-of-care", "EpisodeOfCare?care-manager={practitioner}&status=active", "patient"),
      new Search("ward", "Encounter?location={locations}&status=in-progress", "subject"));

  public static final String DEFAULT_LOCATIONS_QUERY = "PractitionerRole?practitioner={practitioner}&active=true";

  public RelationshipSettings {
    practitioners = Map.copyOf(practitioners);
    searches = List.copyOf(searches);
    requireNonNull(locationsQuery, "locationsQuery");
    positive(ttl, "ttl");
    positive(maxAge, "maxAge");
    positive(timeout, "timeout");
    if (maxAge.compareTo(ttl) < 0) {
      throw new IllegalArgumentException("maxAge: " + maxAge + " (expected: >= ttl " + ttl + ")");
    }
    if (maxPages < 1 || pageSize < 1 || maxPrincipals < 1) {
      throw new IllegalArgumentException("maxPages " + maxPages + ", pageSize " + pageSize + ", maxPrincipals "
          + maxPrincipals + " (expected: >= 1)");
    }
    requireNonNull(writeDelay, "writeDelay");
    if (writeDelay.isNegative()) {
      throw new IllegalArgumentException("writeDelay: " + writeDelay + " (expected: >= 0)");
    }
  }

  private static void positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
    }
  }

  /** The defaults, with the practitioner from {@code fhirUser} only. */
  public static RelationshipSettings defaults() {
    return new RelationshipSettings(Map.of(), true, DEFAULT_SEARCHES, DEFAULT_LOCATIONS_QUERY, Duration.ofMinutes(5),
        Duration.ofMinutes(15), Duration.ofSeconds(5), 5, 200, Duration.ofHours(1), 100_000);
  }
}
