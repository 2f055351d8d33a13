package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Patients shown again: gathered per principal, each at its latest time, handed on once per interval. */
class RedisclosuresTest {
  static final PatientWindow HOUR = PatientWindow.of(Duration.ofHours(1), 50);
  final Instant t0 = Instant.parse("2026-12-06T08:00:00Z");
  final List<Runnable> timers = new ArrayList<>();
  final List<Redisclosures.Gathered> written = new ArrayList<>();
  final Redisclosures gatherer = new Redisclosures(Duration.ofMillis(250), (delay, task) -> timers.add(task), written::add);

  static ChargeRequest read(String account, Instant at, String... patients) {
    return new ChargeRequest(account, List.of(HOUR), Set.of(patients), at, true);
  }

  @Test
  void manyAnswersOfOnePrincipalBecomeOneWriteWithEachPatientsLatestTime() {
    gatherer.add(read("a", t0, "p1", "p2"));
    gatherer.add(read("a", t0.plusMillis(10), "p1"));
    gatherer.add(read("a", t0.plusMillis(5), "p2", "p3"));
    assertThat(written).isEmpty();
    assertThat(timers).as("one timer per batch").hasSize(1);
    timers.get(0).run();
    assertThat(written).singleElement().satisfies(g -> {
      assertThat(g.account()).isEqualTo("a");
      assertThat(g.patients()).isEqualTo(Map.of("p1", t0.plusMillis(10).toEpochMilli(), "p2", t0.plusMillis(5).toEpochMilli(),
          "p3", t0.plusMillis(5).toEpochMilli()));
    });
  }

  @Test
  void aChargeRedisChecksTakesThePrincipalsGatheredTimesFirst() {
    gatherer.add(read("a", t0, "p1"));
    gatherer.add(read("b", t0, "p9"));
    gatherer.flush("a");
    assertThat(written).extracting(Redisclosures.Gathered::account).containsExactly("a");
    timers.forEach(Runnable::run);
    assertThat(written).extracting(Redisclosures.Gathered::account).containsExactly("a", "b");
  }

  @Test
  void otherTermsStartAnotherBatchAndHandOnTheFirst() {
    gatherer.add(read("a", t0, "p1"));
    gatherer.add(new ChargeRequest("a", List.of(PatientWindow.of(Duration.ofHours(1), 40)), Set.of("p1"), t0, true));
    assertThat(written).as("a reloaded limit").hasSize(1);
    gatherer.flushAll();
    assertThat(written).hasSize(2);
    assertThat(written.get(1).terms().limits()).extracting(PatientWindow::max).containsExactly(40);
  }

  @Test
  void unexplainedPatientsAreGatheredForTheirOwnWindows() {
    PatientWindow unexplained = PatientWindow.unexplained(Duration.ofHours(24), 5);
    gatherer.add(new ChargeRequest("a", List.of(HOUR), Set.of(), Set.of("p1", "p2"), t0, true,
        new ChargeRequest.Unexplained(List.of(unexplained), Set.of(), Set.of("p2"), true)));
    gatherer.flushAll();
    assertThat(written.get(0).patients()).containsOnlyKeys("p1", "p2");
    assertThat(written.get(0).unexplained()).containsOnlyKeys("p2");
  }
}
