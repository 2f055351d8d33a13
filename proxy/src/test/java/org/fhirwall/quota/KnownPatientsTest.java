package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a replica may admit an answer from its memory of what Redis has counted, and when it must ask. */
class KnownPatientsTest {
  static final PatientWindow HOUR = PatientWindow.of(Duration.ofHours(1), 5);
  static final PatientWindow DAY = PatientWindow.of(Duration.ofHours(24), 8);
  static final Duration MARGIN = Duration.ofSeconds(12);
  final Instant t0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
  final KnownPatients known = new KnownPatients(MARGIN, 100, 100);

  static ChargeRequest charge(Instant at, String... patients) {
    return new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(patients), at, true);
  }

  static ChargeResult.Admitted admitted(int hour, int day) {
    return new ChargeResult.Admitted(List.of(new WindowUsage(HOUR, hour), new WindowUsage(DAY, day)), 0, null);
  }

  @Test
  void nothingIsKnownBeforeRedisConfirmedIt() {
    assertThat(known.admit(charge(t0, "p1"))).isEmpty();
  }

  @Test
  void patientsRedisCountedAreAdmittedWithTheUsageItLastSaid() {
    known.confirmed(charge(t0, "p1", "p2"), admitted(2, 2));
    assertThat(known.admit(charge(t0.plusSeconds(60), "p2"))).hasValueSatisfying(a -> {
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(2, 2);
      assertThat(a.newPatients()).isZero();
      assertThat(a.wouldRefuse()).isNull();
    });
    assertThat(known.admit(charge(t0.plusSeconds(60), "p1", "p2"))).isPresent();
  }

  @Test
  void oneNewPatientAsksRedis() {
    known.confirmed(charge(t0, "p1", "p2"), admitted(2, 2));
    assertThat(known.admit(charge(t0.plusSeconds(1), "p1", "p3"))).isEmpty();
  }

  @Test
  void aConfirmationAnswersOnlyUntilTheShortestWindowLessTheMarginIsOver() {
    known.confirmed(charge(t0, "p1"), admitted(1, 1));
    Instant edge = t0.plus(Duration.ofHours(1)).minus(MARGIN);
    assertThat(known.admit(charge(edge, "p1"))).isPresent();
    assertThat(known.admit(charge(edge.plusMillis(1), "p1"))).as("the hour may end before Redis hears of it").isEmpty();
  }

  @Test
  void aWrittenReDisclosureMovesTheConfirmationOn() {
    known.confirmed(charge(t0, "p1"), admitted(1, 1));
    known.written("acct", KnownPatients.Terms.of(charge(t0, "p1")), java.util.Map.of("p1", t0.plus(Duration.ofMinutes(50)).toEpochMilli()),
        java.util.Map.of());
    assertThat(known.admit(charge(t0.plus(Duration.ofMinutes(100)), "p1"))).isPresent();
  }

  @Test
  void otherTermsAskRedis() {
    known.confirmed(charge(t0, "p1"), admitted(1, 1));
    PatientWindow lowered = PatientWindow.of(Duration.ofHours(1), 4);
    assertThat(known.admit(new ChargeRequest("acct", List.of(lowered, DAY), Set.of("p1"), t0, true))).as("a reloaded limit").isEmpty();
    assertThat(known.admit(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of("p1"), t0, false))).as("report-only").isEmpty();
    assertThat(known.admit(new ChargeRequest("other", List.of(HOUR, DAY), Set.of("p1"), t0, true))).as("another account").isEmpty();
  }

  @Test
  void aWindowOverItsLimitAsksRedisEvenForKnownPatients() {
    known.confirmed(charge(t0, "p1"), admitted(6, 6));
    assertThat(known.admit(charge(t0, "p1"))).isEmpty();
  }

  @Test
  void unexplainedPatientsMustBeKnownInTheUnexplainedWindowsToo() {
    PatientWindow unexplained = PatientWindow.unexplained(Duration.ofHours(24), 3);
    ChargeRequest.Unexplained explainedThen = new ChargeRequest.Unexplained(List.of(unexplained), Set.of(), Set.of(), true);
    ChargeRequest.Unexplained unexplainedNow = new ChargeRequest.Unexplained(List.of(unexplained), Set.of(), Set.of("p1"), true);
    ChargeResult.Admitted usage = new ChargeResult.Admitted(List.of(new WindowUsage(HOUR, 1), new WindowUsage(DAY, 1),
        new WindowUsage(unexplained, 0)), 0, null);
    known.confirmed(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(), Set.of("p1"), t0, true, explainedThen), usage);
    assertThat(known.admit(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(), Set.of("p1"), t0, true, explainedThen)))
        .isPresent();
    assertThat(known.admit(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(), Set.of("p1"), t0, true, unexplainedNow)))
        .as("counted in the ordinary windows, not yet in the unexplained one").isEmpty();
  }

  @Test
  void aForgottenAccountAsksRedisAgain() {
    known.confirmed(charge(t0, "p1"), admitted(1, 1));
    known.forget("acct");
    assertThat(known.admit(charge(t0, "p1"))).isEmpty();
    known.confirmed(charge(t0, "p1"), admitted(1, 1));
    known.forgetAll();
    assertThat(known.admit(charge(t0, "p1"))).isEmpty();
  }

  @Test
  void aLargeAnswerAlwaysAsksRedis() {
    KnownPatients roomy = new KnownPatients(MARGIN, 10, 10_000);
    String[] many = new String[KnownPatients.MAX_REMEMBERED_ANSWER + 1];
    for (int i = 0; i < many.length; i++) {
      many[i] = "p" + i;
    }
    PatientWindow wide = PatientWindow.of(Duration.ofHours(1), 1000);
    ChargeRequest r = new ChargeRequest("acct", List.of(wide), Set.of(many), t0, true);
    roomy.confirmed(r, new ChargeResult.Admitted(List.of(new WindowUsage(wide, many.length)), many.length, null));
    assertThat(roomy.admit(r)).isEmpty();
  }

  @Test
  void itsSizeIsBounded() {
    KnownPatients small = new KnownPatients(MARGIN, 2, 3);
    small.confirmed(charge(t0, "p1", "p2", "p3"), admitted(3, 3));
    small.confirmed(charge(t0, "p4"), admitted(4, 4));
    assertThat(small.admit(charge(t0, "p4"))).as("beyond 3 patients an account's memory takes no more").isEmpty();
    small.confirmed(new ChargeRequest("b", List.of(HOUR, DAY), Set.of("p1"), t0, true), admitted(1, 1));
    small.confirmed(new ChargeRequest("c", List.of(HOUR, DAY), Set.of("p1"), t0, true), admitted(1, 1));
    assertThat(small.knows("c")).as("beyond 2 accounts none is added").isFalse();
  }
}
