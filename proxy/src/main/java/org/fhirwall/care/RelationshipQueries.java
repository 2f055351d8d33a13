package org.fhirwall.care;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One load of one practitioner's relationships: the configured FHIR searches, run against the EPR
 * with fhirwall's credentials, each followed through at most {@code max-pages} pages of
 * {@code page-size}; a search with {@code {locations}} runs with the locations of the
 * practitioner's active roles. Each match's patient (its {@code patient-element}) is a
 * relationship that counts from the match's {@code meta.lastUpdated} plus {@code write-delay} (for
 * a ward, from the later of the encounter's and the role's), so a relationship just written
 * through fhirwall, or anywhere else, counts only once it has stood for the delay; a match without
 * {@code meta.lastUpdated} never counts while a delay is set. Any error status or unreadable answer
 * fails the whole load (the caller turns it into "unknown": fail closed). Answers are parsed on
 * {@code executor}, never on the thread that completed the EPR call.
 */
final class RelationshipQueries {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  private final RelationshipSettings settings;
  private final EprReader epr;
  private final Executor executor;
  private final Clock clock;

  RelationshipQueries(RelationshipSettings settings, EprReader epr, Executor executor, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.epr = requireNonNull(epr, "epr");
    this.executor = requireNonNull(executor, "executor");
    this.clock = requireNonNull(clock, "clock");
  }

  /** A resource that matched, as far as relationships care. */
  private record Match(String id, @Nullable Instant lastUpdated, JsonNode resource) {}

  CompletableFuture<CareRelationships> load(String practitionerOrRole) {
    Instant started = clock.instant();
    CompletableFuture<String> practitioner = practitionerOrRole.startsWith("PractitionerRole/")
        ? practitionerOfRole(practitionerOrRole) : CompletableFuture.completedFuture(practitionerOrRole);
    return practitioner.thenCompose(p -> {
      boolean needLocations = settings.searches().stream().anyMatch(RelationshipSettings.Search::needsLocations);
      CompletableFuture<Map<String, Instant>> locations = needLocations ? locations(p)
          : CompletableFuture.completedFuture(Map.of());
      return locations.thenCompose(locs -> {
        Map<String, List<CareRelationships.Relationship>> byPatient = new LinkedHashMap<>();
        AtomicBoolean truncated = new AtomicBoolean();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (RelationshipSettings.Search s : settings.searches()) {
          if (s.needsLocations() && locs.isEmpty()) {
            continue;
          }
          String query = s.query().replace("{practitioner}", encode(p))
              .replace("{locations}", encode(String.join(",", locs.keySet())));
          all.add(search(query, truncated).thenAccept(matches -> {
            synchronized (byPatient) {
              for (Match m : matches) {
                add(byPatient, s, m, locs);
              }
            }
          }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> {
          synchronized (byPatient) {
            return new CareRelationships.Known(p, byPatient, started, truncated.get());
          }
        });
      });
    });
  }

  private void add(Map<String, List<CareRelationships.Relationship>> byPatient, RelationshipSettings.Search s, Match m,
      Map<String, Instant> locations) {
    Instant countsFrom = countsFrom(m.lastUpdated());
    if (countsFrom == null) {
      return;
    }
    if (s.needsLocations()) {
      Instant ward = null;
      for (JsonNode l : m.resource().path("location")) {
        String ref = relativeReference(l.path("location").path("reference").asText(""), "Location");
        Instant from = ref == null ? null : locations.get(ref);
        if (from != null && (ward == null || from.isBefore(ward))) {
          ward = from;
        }
      }
      if (ward == null) {
        return;
      }
      countsFrom = ward.isAfter(countsFrom) ? ward : countsFrom;
    }
    JsonNode element = m.resource().path(s.patientElement());
    List<JsonNode> refs = new ArrayList<>();
    if (element.isArray()) {
      element.forEach(refs::add);
    } else {
      refs.add(element);
    }
    for (JsonNode r : refs) {
      String patient = relativeReference(r.path("reference").asText(""), "Patient");
      if (patient != null) {
        byPatient.computeIfAbsent(patient, k -> new ArrayList<>())
            .add(new CareRelationships.Relationship(m.id(), s.name(), countsFrom));
      }
    }
  }

  private @Nullable Instant countsFrom(@Nullable Instant lastUpdated) {
    if (lastUpdated == null) {
      return settings.writeDelay().isZero() ? Instant.EPOCH : null;
    }
    return lastUpdated.plus(settings.writeDelay());
  }

  /** The locations of the practitioner's active roles, each with when it counts. */
  private CompletableFuture<Map<String, Instant>> locations(String practitioner) {
    String query = settings.locationsQuery().replace("{practitioner}", encode(practitioner));
    return search(query, new AtomicBoolean()).thenApply(roles -> {
      Map<String, Instant> out = new LinkedHashMap<>();
      for (Match role : roles) {
        Instant from = countsFrom(role.lastUpdated());
        if (from == null) {
          continue;
        }
        for (JsonNode l : role.resource().path("location")) {
          String ref = relativeReference(l.path("reference").asText(""), "Location");
          if (ref != null) {
            out.merge(ref, from, (a, b) -> a.isBefore(b) ? a : b);
          }
        }
      }
      return out;
    });
  }

  private CompletableFuture<String> practitionerOfRole(String role) {
    return get(role).thenApply(node -> {
      String p = relativeReference(node.path("practitioner").path("reference").asText(""), "Practitioner");
      if (p == null || !node.path("active").asBoolean(true)) {
        throw new IllegalStateException(role + " names no active practitioner");
      }
      return p;
    });
  }

  /** Every match of a search, following its pages up to the cap. */
  private CompletableFuture<List<Match>> search(String query, AtomicBoolean truncated) {
    String first = query + (query.contains("?") ? "&" : "?") + "_count=" + settings.pageSize();
    List<Match> matches = new ArrayList<>();
    return page(first, 1, matches, truncated).thenApply(v -> matches);
  }

  private CompletableFuture<Void> page(String target, int number, List<Match> into, AtomicBoolean truncated) {
    return get(target).thenCompose(bundle -> {
      if (!"Bundle".equals(bundle.path("resourceType").asText())) {
        throw new IllegalStateException("a search answered with " + bundle.path("resourceType").asText("no resource"));
      }
      for (JsonNode entry : bundle.path("entry")) {
        String mode = entry.path("search").path("mode").asText("match");
        JsonNode r = entry.path("resource");
        if (!mode.equals("match") || !r.isObject()) {
          continue;
        }
        into.add(new Match(r.path("resourceType").asText() + "/" + r.path("id").asText(), instant(r.path("meta")
            .path("lastUpdated").asText(null)), r));
      }
      String next = null;
      for (JsonNode link : bundle.path("link")) {
        if ("next".equals(link.path("relation").asText())) {
          next = link.path("url").asText(null);
        }
      }
      if (next == null) {
        return CompletableFuture.completedFuture(null);
      }
      if (number >= settings.maxPages()) {
        truncated.set(true);
        return CompletableFuture.completedFuture(null);
      }
      return page(next, number + 1, into, truncated);
    });
  }

  private CompletableFuture<JsonNode> get(String target) {
    return epr.get(target).toCompletableFuture().thenApplyAsync(answer -> {
      if (answer.status() != 200) {
        throw new IllegalStateException("the EPR answered " + answer.status() + " to a relationship search");
      }
      try {
        return JSON.readTree(answer.body());
      } catch (IOException e) {
        throw new IllegalStateException("a relationship search's answer is not JSON: " + e.getMessage(), e);
      }
    }, executor);
  }

  private static @Nullable Instant instant(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("%2F", "/").replace("%2C", ",");
  }

  /**
   * {@code Type/id} of a relative or absolute reference to one of {@code types} (without
   * {@code _history}), null for anything else.
   */
  static @Nullable String relativeReference(String reference, String... types) {
    String r = reference;
    int history = r.indexOf("/_history/");
    if (history >= 0) {
      r = r.substring(0, history);
    }
    if (r.indexOf('?') >= 0 || r.indexOf('#') >= 0) {
      return null;
    }
    String[] parts = r.split("/");
    if (parts.length < 2) {
      return null;
    }
    String type = parts[parts.length - 2];
    String id = parts[parts.length - 1];
    if (!ID.matcher(id).matches()) {
      return null;
    }
    for (String t : types) {
      if (t.equals(type)) {
        return type + "/" + id;
      }
    }
    return null;
  }
}
