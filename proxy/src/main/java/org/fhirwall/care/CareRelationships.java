package org.fhirwall.care;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What fhirwall knows of one principal's care relationships at one moment: the relationships its
 * own queries found ({@link Known}), or that it could not learn them ({@link Unknown}, every
 * patient unexplained). Immutable.
 */
public sealed interface CareRelationships {

  /**
   * Splits a response's patients into those a relationship explains at {@code now} (with the
   * relationship that does) and the rest.
   */
  Split split(Set<String> patients, Instant now);

  /** One relationship: the resource that makes it (e.g. {@code Encounter/e1}), and from when it counts. */
  record Relationship(String via, String search, Instant countsFrom) {
    public Relationship {
      requireNonNull(via, "via");
      requireNonNull(search, "search");
      requireNonNull(countsFrom, "countsFrom");
    }

    /** {@code encounter Encounter/e1}: the audit record's explanation. */
    public String describe() {
      return search + " " + via;
    }
  }

  /**
   * The relationships found for {@code practitioner}, by patient key ({@code Patient/id}).
   *
   * @param learnedAt when the EPR's answers were read
   * @param truncated true when a search hit its page cap (fewer relationships than exist, never more)
   */
  record Known(String practitioner, Map<String, List<Relationship>> byPatient, Instant learnedAt, boolean truncated)
      implements CareRelationships {
    public Known {
      requireNonNull(practitioner, "practitioner");
      Map<String, List<Relationship>> copy = new LinkedHashMap<>();
      byPatient.forEach((k, v) -> copy.put(k, List.copyOf(v)));
      byPatient = Map.copyOf(copy);
      requireNonNull(learnedAt, "learnedAt");
    }

    @Override
    public Split split(Set<String> patients, Instant now) {
      Map<String, String> explained = new LinkedHashMap<>();
      Set<String> unexplained = new LinkedHashSet<>();
      List<String> notes = new ArrayList<>();
      for (String p : patients) {
        List<Relationship> found = byPatient.get(p);
        Relationship counting = null;
        Relationship pending = null;
        if (found != null) {
          for (Relationship r : found) {
            if (!r.countsFrom().isAfter(now)) {
              counting = r;
              break;
            }
            pending = r;
          }
        }
        if (counting != null) {
          explained.put(p, counting.describe());
        } else {
          unexplained.add(p);
          if (pending != null) {
            notes.add("relationship " + pending.describe() + " changed recently: counts from " + pending.countsFrom());
          }
        }
      }
      return new Split(explained, unexplained, notes);
    }
  }

  /** The relationships could not be learned ({@code reason}, patient-free): nobody is explained. */
  record Unknown(String reason) implements CareRelationships {
    public Unknown {
      requireNonNull(reason, "reason");
    }

    @Override
    public Split split(Set<String> patients, Instant now) {
      return new Split(Map.of(), patients, List.of("care relationships unavailable (" + reason
          + "): every patient counted as unexplained"));
    }
  }

  /**
   * A response's patients split by relationship.
   *
   * @param explained patient → the relationship that explains it ({@link Relationship#describe()})
   * @param unexplained the patients no relationship explains
   * @param notes patient-free remarks for the audit record (source unavailable, a recent change)
   */
  record Split(Map<String, String> explained, Set<String> unexplained, List<String> notes) {
    public Split {
      explained = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(explained));
      unexplained = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(unexplained));
      notes = List.copyOf(notes);
    }

    /** The explanation of {@code patient}, null when unexplained. */
    public @Nullable String explanation(String patient) {
      return explained.get(patient);
    }
  }
}
