package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quota store contract for the local store, and what only it does (a bounded account table, the state file). */
class LocalQuotaStoreTest extends QuotaStoreContract {
  @TempDir
  Path dir;

  @Override
  QuotaStore newStore() {
    return new LocalQuotaStore(1000, Runnable::run);
  }

  @Test
  void aKeySeenOnceMayBeSeenAgainOnlyAfterItsTtl() {
    assertThat(done(store.seenOnce("k", Duration.ofSeconds(30), t0))).isTrue();
    assertThat(done(store.seenOnce("k", Duration.ofSeconds(30), t0.plusSeconds(29)))).isFalse();
    assertThat(done(store.seenOnce("k", Duration.ofSeconds(30), t0.plusSeconds(30)))).isTrue();
  }

  @Test
  void aBindingEndsAfterItsTtlAndTheKeyIsFreeAgain() {
    assertThat(done(store.bind("export-job:j1", "idp|a", Duration.ofHours(24), t0))).isTrue();
    assertThat(done(store.ownerOf("export-job:j1", t0.plus(Duration.ofHours(24)).minusMillis(1)))).contains("idp|a");
    assertThat(done(store.ownerOf("export-job:j1", t0.plus(Duration.ofHours(24))))).isEmpty();
    assertThat(done(store.bind("export-job:j1", "idp|b", Duration.ofHours(24), t0.plus(Duration.ofHours(25))))).isTrue();
  }

  @Test
  void bindingsSurviveARestartThroughTheStateFileUntilTheyExpire() {
    LocalQuotaStore before = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    done(before.bind("export-file:f1", "idp|a", Duration.ofHours(24), t0));
    done(before.bind("export-file:f2", "idp|a", Duration.ofMinutes(1), t0));
    // no close(): a binding is written out as it is made, like a lock
    LocalQuotaStore after = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    assertThat(done(after.ownerOf("export-file:f1", t0.plusSeconds(120)))).contains("idp|a");
    assertThat(done(after.bind("export-file:f1", "idp|b", Duration.ofHours(24), t0.plusSeconds(120)))).isFalse();
    assertThat(done(after.ownerOf("export-file:f2", t0.plusSeconds(120)))).as("expired meanwhile").isEmpty();
    after.close();
  }

  @Test
  void aHoldSurvivesARestartThroughTheStateFileUntilItEnds() {
    LocalQuotaStore before = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    done(before.hold("idp|a", t0.plus(Duration.ofMinutes(10)), t0));
    // no close(): a hold is written out as it is set, like a lock
    LocalQuotaStore after = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 5);
    assertThat(done(after.held("idp|a", List.of(hour), Set.of(), t0.plusSeconds(60))))
        .hasValueSatisfying(h -> assertThat(h.until()).isEqualTo(t0.plus(Duration.ofMinutes(10))));
    assertThat(done(after.held("idp|a", List.of(hour), Set.of(), t0.plus(Duration.ofMinutes(10)).plusMillis(1)))).isEmpty();
    after.close();
  }

  @Test
  void aFullStoreRefusesNewBindingsInsteadOfForgettingLiveOnes() {
    LocalQuotaStore small = new LocalQuotaStore(100, Runnable::run, null, 2);
    assertThat(done(small.bind("k1", "a", Duration.ofHours(1), t0))).isTrue();
    assertThat(done(small.bind("k2", "a", Duration.ofHours(1), t0))).isTrue();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> done(small.bind("k3", "a", Duration.ofHours(1), t0)))
        .hasMessageContaining("bindings");
    assertThat(done(small.ownerOf("k1", t0))).contains("a");
    assertThat(done(small.bind("k3", "a", Duration.ofHours(1), t0.plus(Duration.ofHours(1))))).as("once others expired").isTrue();
  }

  @Test
  void aFullStoreRefusesNewAccountsInsteadOfForgettingLiveOnes() {
    LocalQuotaStore small = new LocalQuotaStore(2, Runnable::run);
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    done(small.charge(new ChargeRequest("a", List.of(w), Set.of("p"), t0, true)));
    done(small.charge(new ChargeRequest("b", List.of(w), Set.of("p"), t0, true)));
    assertThat(small.charge(new ChargeRequest("c", List.of(w), Set.of("p"), t0, true)).toCompletableFuture())
        .isCompletedExceptionally();
    assertThat(done(small.usage("a", List.of(w), t0)).get(0).distinct()).isEqualTo(1);
  }

  @Test
  void locksOpenWindowsAndSecretsSurviveARestartThroughTheStateFile() throws Exception {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 3);
    LocalQuotaStore before = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    done(before.charge(new ChargeRequest("alice", List.of(w), Set.of("p1", "p2"), t0, true)));
    done(before.lock("mallory", "limit reached", Duration.ofHours(24), t0));
    byte[] key = done(before.sharedSecret("paging", new byte[] {1, 2, 3}));
    before.close();
    assertThat(Files.getPosixFilePermissions(dir.resolve("quota-state.json"))).as("it lists patients: owner only")
        .extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");

    LocalQuotaStore after = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    assertThat(done(after.lockOf("mallory", t0.plusSeconds(60)))).hasValueSatisfying(l ->
        assertThat(l.until()).isEqualTo(t0.plus(Duration.ofHours(24))));
    assertThat(done(after.usage("alice", List.of(w), t0.plusSeconds(60)))).extracting(WindowUsage::distinct).containsExactly(2);
    assertThat(done(after.charge(new ChargeRequest("alice", List.of(w), Set.of("p3", "p4"), t0.plusSeconds(60), true))))
        .as("the window opened before the restart still counts").isInstanceOf(ChargeResult.Refused.class);
    assertThat(done(after.sharedSecret("paging", new byte[] {9}))).isEqualTo(key);
    after.close();
  }

  @Test
  void aLockIsWrittenOutAtOnceNotOnlyAtShutdown() {
    LocalQuotaStore before = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    done(before.lock("mallory", "limit reached", Duration.ofHours(1), t0));
    // no close(): as after a crash, the file written when the lock was set is what the next start reads
    LocalQuotaStore after = new LocalQuotaStore(100, Runnable::run, new StateFile(dir));
    assertThat(done(after.lockOf("mallory", t0))).isPresent();
  }

  @Test
  void anUnreadableStateFileStopsTheStartInsteadOfForgettingLocks() throws Exception {
    Files.writeString(dir.resolve("quota-state.json"), "{\"version\":1,\"locks\":[[\"x\"");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LocalQuotaStore(100, Runnable::run, new StateFile(dir)))
        .hasMessageContaining("cannot be read");
  }
}
