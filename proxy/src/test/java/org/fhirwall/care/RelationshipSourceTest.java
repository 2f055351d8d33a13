package org.fhirwall.care;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirwall.auth.Principal;
import org.junit.jupiter.api.Test;

class RelationshipSourceTest {
  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
  private static final String OLD = "2026-12-01T08:00:00Z";

  /** A clock and a Caffeine ticker moved together by hand. */
  static final class Time extends Clock {
    private volatile Instant now = T0;
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    void advance(Duration d) {
      now = now.plus(d);
      nanos.addAndGet(d.toNanos());
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** The EPR's answers by the start of the target; every call recorded. */
  static final class FakeEpr implements EprReader {
    final Map<String, String> answers = new ConcurrentHashMap<>();
    final List<String> asked = new CopyOnWriteArrayList<>();
    final AtomicBoolean down = new AtomicBoolean();

    @Override
    public CompletionStage<Answer> get(String target) {
      asked.add(target);
      if (down.get()) {
        return CompletableFuture.failedFuture(new java.io.IOException("connection refused"));
      }
      for (Map.Entry<String, String> e : answers.entrySet()) {
        if (target.startsWith(e.getKey())) {
          return CompletableFuture.completedFuture(new Answer(200, e.getValue().getBytes(StandardCharsets.UTF_8)));
        }
      }
      return CompletableFuture.completedFuture(new Answer(200, bundle().getBytes(StandardCharsets.UTF_8)));
    }
  }

  static String bundle(String... resources) {
    return bundleWithNext(null, resources);
  }

  static String bundleWithNext(String next, String... resources) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",");
    if (next != null) {
      b.append("\"link\":[{\"relation\":\"next\",\"url\":\"").append(next).append("\"}],");
    }
    b.append("\"entry\":[");
    for (int i = 0; i < resources.length; i++) {
      b.append(i == 0 ? "" : ",").append("{\"resource\":").append(resources[i]).append(",\"search\":{\"mode\":\"match\"}}");
    }
    return b.append("]}").toString();
  }

  static String encounter(String id, String patient, String lastUpdated, String... locations) {
    StringBuilder locs = new StringBuilder();
    for (String l : locations) {
      locs.append(locs.length() == 0 ? "" : ",").append("{\"location\":{\"reference\":\"").append(l).append("\"}}");
    }
    return "{\"resourceType\":\"Encounter\",\"id\":\"" + id + "\",\"meta\":{\"lastUpdated\":\"" + lastUpdated
        + "\"},\"status\":\"in-progress\",\"subject\":{\"reference\":\"" + patient + "\"},\"location\":[" + locs + "]}";
  }

  static String careTeam(String id, String patient, String lastUpdated) {
    return "{\"resourceType\":\"CareTeam\",\"id\":\"" + id + "\",\"meta\":{\"lastUpdated\":\"" + lastUpdated
        + "\"},\"subject\":{\"reference\":\"" + patient + "\"}}";
  }

  static String episode(String id, String patient, String lastUpdated) {
    return "{\"resourceType\":\"EpisodeOfCare\",\"id\":\"" + id + "\",\"meta\":{\"lastUpdated\":\"" + lastUpdated
        + "\"},\"patient\":{\"reference\":\"" + patient + "\"}}";
  }

  static String role(String id, String lastUpdated, String location) {
    return "{\"resourceType\":\"PractitionerRole\",\"id\":\"" + id + "\",\"meta\":{\"lastUpdated\":\"" + lastUpdated
        + "\"},\"active\":true,\"location\":[{\"reference\":\"" + location + "\"}]}";
  }

  static Principal clinician(String fhirUser) {
    return new Principal(Principal.Kind.USER, "https://idp", "sub-martin", "dr.martin", "fhirwall-web", Set.of("physician"),
        "mfa", Set.of("pwd", "otp"), T0, "sid", Set.of(), null, T0.plusSeconds(3600), "jti-1", fhirUser);
  }

  final Time time = new Time();
  final FakeEpr epr = new FakeEpr();

  RelationshipSource source(RelationshipSettings settings) {
    return new RelationshipSource(settings, epr, Runnable::run, time.nanos::get, time);
  }

  static RelationshipSettings settings(Duration writeDelay, int maxPages) {
    RelationshipSettings d = RelationshipSettings.defaults();
    return new RelationshipSettings(Map.of("sub-mapped", "Practitioner/pr9"), true, d.searches(), d.locationsQuery(),
        Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofSeconds(2), maxPages, 50, writeDelay, 1000);
  }

  CareRelationships of(RelationshipSource s, Principal p) {
    return s.of(p).toCompletableFuture().join();
  }

  void usualDay() {
    epr.answers.put("Encounter?participant=Practitioner/pr1", bundle(encounter("e1", "Patient/p1", OLD)));
    epr.answers.put("CareTeam?participant=Practitioner/pr1", bundle(careTeam("ct1", "Patient/p2", OLD)));
    epr.answers.put("EpisodeOfCare?care-manager=Practitioner/pr1", bundle(episode("eoc1", "Patient/p3", OLD)));
    epr.answers.put("PractitionerRole?practitioner=Practitioner/pr1", bundle(role("r1", OLD, "Location/ward-a")));
    epr.answers.put("Encounter?location=Location/ward-a",
        bundle(encounter("e4", "http://epr.example/fhir/Patient/p4", OLD, "Location/ward-a")));
  }

  @Test
  void everyDefaultSearchExplainsItsPatientsAndNamesTheRelationship() {
    usualDay();
    CareRelationships r = of(source(settings(Duration.ofHours(1), 5)), clinician("Practitioner/pr1"));
    CareRelationships.Split split = r.split(Set.of("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", "Patient/p5",
        "unresolved:abc"), time.instant());
    assertThat(split.explained()).containsOnly(
        Map.entry("Patient/p1", "encounter Encounter/e1"),
        Map.entry("Patient/p2", "care-team CareTeam/ct1"),
        Map.entry("Patient/p3", "episode-of-care EpisodeOfCare/eoc1"),
        Map.entry("Patient/p4", "ward Encounter/e4"));
    assertThat(split.unexplained()).containsExactlyInAnyOrder("Patient/p5", "unresolved:abc");
    assertThat(epr.asked).allMatch(t -> t.contains("_count=50"));
  }

  @Test
  void aRelationshipWrittenRecentlyCountsOnlyAfterTheWriteDelay() {
    epr.answers.put("Encounter?participant=Practitioner/pr1",
        bundle(encounter("e9", "Patient/p9", T0.minus(Duration.ofMinutes(10)).toString())));
    CareRelationships r = of(source(settings(Duration.ofHours(1), 5)), clinician("Practitioner/pr1"));
    CareRelationships.Split now = r.split(Set.of("Patient/p9"), time.instant());
    assertThat(now.unexplained()).containsExactly("Patient/p9");
    assertThat(now.notes()).singleElement().asString().contains("encounter Encounter/e9 changed recently");
    assertThat(r.split(Set.of("Patient/p9"), T0.plus(Duration.ofMinutes(51))).explained()).containsKey("Patient/p9");
  }

  @Test
  void aWardCountsFromTheLaterOfTheRoleAndTheEncounter() {
    epr.answers.put("PractitionerRole?practitioner=Practitioner/pr1",
        bundle(role("r1", T0.minus(Duration.ofMinutes(5)).toString(), "Location/ward-b")));
    epr.answers.put("Encounter?location=Location/ward-b", bundle(encounter("e5", "Patient/p5", OLD, "Location/ward-b")));
    CareRelationships r = of(source(settings(Duration.ofHours(1), 5)), clinician("Practitioner/pr1"));
    assertThat(r.split(Set.of("Patient/p5"), time.instant()).unexplained()).containsExactly("Patient/p5");
    assertThat(r.split(Set.of("Patient/p5"), T0.plus(Duration.ofMinutes(56))).explained())
        .containsEntry("Patient/p5", "ward Encounter/e5");
  }

  @Test
  void anUnreachableEprExplainsNobody() {
    usualDay();
    epr.down.set(true);
    CareRelationships r = of(source(settings(Duration.ZERO, 5)), clinician("Practitioner/pr1"));
    assertThat(r).isInstanceOf(CareRelationships.Unknown.class);
    CareRelationships.Split split = r.split(Set.of("Patient/p1"), time.instant());
    assertThat(split.explained()).isEmpty();
    assertThat(split.notes()).singleElement().asString().contains("every patient counted as unexplained");
  }

  @Test
  void anErrorStatusExplainsNobody() {
    EprReader failing = target -> CompletableFuture.completedFuture(new EprReader.Answer(500, new byte[0]));
    RelationshipSource s = new RelationshipSource(settings(Duration.ZERO, 5), failing, Runnable::run, time.nanos::get, time);
    assertThat(of(s, clinician("Practitioner/pr1"))).isInstanceOf(CareRelationships.Unknown.class);
  }

  @Test
  void aPrincipalWithoutPractitionerHasNoRelationshipsAndTheMappingWins() {
    usualDay();
    RelationshipSource s = source(settings(Duration.ZERO, 5));
    assertThat(of(s, clinician(null))).isInstanceOf(CareRelationships.Unknown.class);
    assertThat(epr.asked).isEmpty();
    Principal mapped = new Principal(Principal.Kind.USER, "https://idp", "sub-mapped", "x", "c", Set.of(), null, Set.of(),
        null, null, Set.of(), null, T0, "j", "Practitioner/pr1");
    assertThat(((CareRelationships.Known) of(s, mapped)).practitioner()).isEqualTo("Practitioner/pr9");
  }

  @Test
  void relationshipsAreLoadedOncePerTtlAndRefreshedInTheBackground() {
    usualDay();
    java.util.Queue<Runnable> background = new java.util.concurrent.ConcurrentLinkedQueue<>();
    RelationshipSource s = new RelationshipSource(settings(Duration.ZERO, 5), epr, background::add, time.nanos::get, time);
    Principal p = clinician("Practitioner/pr1");
    CompletableFuture<CareRelationships> first = s.of(p).toCompletableFuture();
    assertThat(first).isNotDone();
    runAll(background);
    assertThat(first).isDone();
    assertThat(s.of(p).toCompletableFuture()).isDone();
    time.advance(Duration.ofMinutes(4));
    assertThat(s.of(p).toCompletableFuture()).isDone();
    runAll(background);
    assertThat(s.loads()).isEqualTo(1);
    epr.answers.put("Encounter?participant=Practitioner/pr1", bundle(encounter("e7", "Patient/p7", OLD)));
    time.advance(Duration.ofMinutes(2));
    // past the ttl: answered at once with what is known, while a refresh runs in the background
    CompletableFuture<CareRelationships> stale = s.of(p).toCompletableFuture();
    assertThat(stale).isDone();
    assertThat(stale.join().split(Set.of("Patient/p1"), time.instant()).explained()).containsKey("Patient/p1");
    runAll(background);
    assertThat(s.loads()).isEqualTo(2);
    assertThat(of(s, p).split(Set.of("Patient/p7"), time.instant()).explained()).containsKey("Patient/p7");
  }

  private static void runAll(java.util.Queue<Runnable> queue) {
    for (Runnable r; (r = queue.poll()) != null; ) {
      r.run();
    }
  }

  @Test
  void aFailedRefreshKeepsTheRelationshipsKnownUntilMaxAge() {
    usualDay();
    RelationshipSource s = source(settings(Duration.ZERO, 5));
    Principal p = clinician("Practitioner/pr1");
    of(s, p);
    epr.down.set(true);
    time.advance(Duration.ofMinutes(6));
    of(s, p);
    assertThat(of(s, p)).isInstanceOf(CareRelationships.Known.class);
    time.advance(Duration.ofMinutes(10));
    assertThat(of(s, p)).isInstanceOf(CareRelationships.Unknown.class);
  }

  @Test
  void searchesStopAtThePageCapWithFewerRelationshipsNeverMore() {
    epr.answers.put("Encounter?participant=Practitioner/pr1", bundleWithNext("http://epr/fhir?_getpages=x",
        encounter("e1", "Patient/p1", OLD)));
    epr.answers.put("http://epr/fhir?_getpages=x", bundleWithNext("http://epr/fhir?_getpages=y",
        encounter("e2", "Patient/p2", OLD)));
    epr.answers.put("http://epr/fhir?_getpages=y", bundle(encounter("e3", "Patient/p3", OLD)));
    CareRelationships.Known r = (CareRelationships.Known) of(source(settings(Duration.ZERO, 2)), clinician("Practitioner/pr1"));
    assertThat(r.truncated()).isTrue();
    assertThat(r.byPatient()).containsOnlyKeys("Patient/p1", "Patient/p2");
    assertThat(new ArrayList<>(epr.asked)).doesNotContain("http://epr/fhir?_getpages=y");
  }
}
