package org.fhirwall.bench;

import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirwall.auth.Principal;
import org.fhirwall.care.CareRelationships;
import org.fhirwall.care.EprReader;
import org.fhirwall.care.RelationshipSettings;
import org.fhirwall.care.RelationshipSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the care-relationship lookup costs a request, fhirwall's own work only: the EPR is an in-process
 * reader answering at once with pre-encoded search Bundles (a slow EPR would only measure the EPR).
 *
 * <ul>
 *   <li>{@code hit}: a principal whose relationships are cached (every request but the first per ttl):
 *       the cache lookup and the split of a response's patients into explained and unexplained;
 *   <li>{@code miss}: a principal seen for the first time (a fresh account each call): the five searches
 *       of the default configuration (the role query and four relationship searches), their Bundles
 *       parsed, the relationships built, then the split. On a request this overlaps the EPR's own answer.
 * </ul>
 *
 * {@code relationships} is how many patients the clinician has (spread over the four searches);
 * {@code patients} how many the response discloses (every other one the clinician's, as far as she has patients).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CareLookupBench {
  private static final String OLD = "2026-01-01T00:00:00Z";

  @Param({"20", "200"})
  public int relationships;

  @Param({"1", "50"})
  public int patients;

  private RelationshipSource source;
  private Principal cached;
  private Set<String> response;
  private final AtomicLong fresh = new AtomicLong();
  private final Instant now = Instant.parse("2026-12-06T12:00:00Z");

  @Setup
  public void setUp() {
    Map<String, byte[]> answers = Map.of(
        "PractitionerRole?", bundle(List.of(role())),
        "Encounter?participant=", bundle(resources("Encounter", "subject", 0, relationships / 4, null)),
        "CareTeam?", bundle(resources("CareTeam", "subject", relationships / 4, relationships / 2, null)),
        "EpisodeOfCare?", bundle(resources("EpisodeOfCare", "patient", relationships / 2, 3 * relationships / 4, null)),
        "Encounter?location=", bundle(resources("Encounter", "subject", 3 * relationships / 4, relationships, "Location/w1")));
    EprReader epr = target -> {
      for (Map.Entry<String, byte[]> e : answers.entrySet()) {
        if (target.startsWith(e.getKey())) {
          return CompletableFuture.completedFuture(new EprReader.Answer(200, e.getValue()));
        }
      }
      return CompletableFuture.failedFuture(new IllegalStateException("unexpected " + target));
    };
    RelationshipSettings d = RelationshipSettings.defaults();
    RelationshipSettings settings = new RelationshipSettings(Map.of(), true, d.searches(), d.locationsQuery(),
        Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofSeconds(5), 5, 500, Duration.ofHours(1), 10_000);
    source = new RelationshipSource(settings, epr, Runnable::run, Ticker.systemTicker(), Clock.systemUTC());
    cached = principal("cached");
    Set<String> r = new LinkedHashSet<>();
    for (int i = 0; i < patients; i++) {
      r.add("Patient/p" + (i % 2 == 0 && i / 2 < relationships ? i / 2 : 100_000 + i));
    }
    response = r;
    CareRelationships known = source.of(cached).toCompletableFuture().join();
    if (!(known instanceof CareRelationships.Known k) || k.byPatient().size() != relationships) {
      throw new IllegalStateException("the relationships were not learned: " + known);
    }
  }

  @Benchmark
  public CareRelationships.Split hit() {
    return source.of(cached).toCompletableFuture().join().split(response, now);
  }

  @Benchmark
  public CareRelationships.Split miss() {
    return source.of(principal("p" + fresh.incrementAndGet())).toCompletableFuture().join().split(response, now);
  }

  private static Principal principal(String subject) {
    Instant t = Instant.now();
    return new Principal(Principal.Kind.USER, "https://idp", subject, subject, "web", Set.of("physician"), "mfa",
        Set.of("pwd", "otp"), t, "sid", Set.of(), null, t.plusSeconds(3600), "jti", "Practitioner/pr1");
  }

  private static String role() {
    return "{\"resourceType\":\"PractitionerRole\",\"id\":\"r1\",\"meta\":{\"lastUpdated\":\"" + OLD
        + "\"},\"active\":true,\"location\":[{\"reference\":\"Location/w1\"}]}";
  }

  private static List<String> resources(String type, String element, int from, int to, String location) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add("{\"resourceType\":\"" + type + "\",\"id\":\"x" + i + "\",\"meta\":{\"lastUpdated\":\"" + OLD
          + "\"},\"status\":\"active\",\"" + element + "\":{\"reference\":\"Patient/p" + i + "\"}"
          + (location == null ? "" : ",\"location\":[{\"location\":{\"reference\":\"" + location + "\"}}]") + "}");
    }
    return out;
  }

  private static byte[] bundle(List<String> resources) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
    for (int i = 0; i < resources.size(); i++) {
      b.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"http://epr/fhir/x\",\"resource\":").append(resources.get(i))
          .append(",\"search\":{\"mode\":\"match\"}}");
    }
    return b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }
}
