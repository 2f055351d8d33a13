package org.fhirwall.server;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.quota.ChargeRequest;
import org.fhirwall.quota.ChargeResult;
import org.fhirwall.quota.Lock;
import org.fhirwall.quota.PatientWindow;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.quota.RateGate;
import org.fhirwall.quota.RateLimit;
import org.fhirwall.quota.WindowUsage;
import org.jspecify.annotations.Nullable;

/**
 * A store as the Redis store looks from an exchange: while {@link #gate} is set, a read's admission
 * is foreseen (it may go to the EPR at once) and decided only when the test completes the gate —
 * by the store behind, so a lock set meanwhile refuses it. Everything else is the store behind.
 */
final class HeldAdmissionStore implements QuotaStore {
  private final QuotaStore behind;
  /** When set, admissions wait for it (and reads go ahead); null: the store behind answers at once. */
  @Nullable CompletableFuture<Void> gate;
  /** When true, every binding call fails, as a store that cannot answer does. */
  boolean bindingsFail;

  HeldAdmissionStore(QuotaStore behind) {
    this.behind = behind;
  }

  @Override
  public Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead, @Nullable HoldCheck hold,
      Instant now) {
    CompletableFuture<Void> g = gate;
    if (g == null) {
      return behind.admit(account, limit, permits, mayGoAhead, hold, now);
    }
    return new Admission(g.thenCompose(v -> behind.enter(account, limit, permits, now)), mayGoAhead,
        hold == null ? null : g.thenCompose(v -> behind.held(account, hold.limits(), hold.named(), now)));
  }

  @Override
  public CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    return behind.enter(account, limit, permits, now);
  }

  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    return behind.charge(request);
  }

  @Override
  public CompletionStage<Optional<Held>> held(String account, List<PatientWindow> limits, java.util.Set<String> named,
      Instant now) {
    return behind.held(account, limits, named, now);
  }

  @Override
  public CompletionStage<Void> hold(String account, Instant until, Instant now) {
    return behind.hold(account, until, now);
  }

  @Override
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return behind.lockOf(account, now);
  }

  @Override
  public CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now) {
    return behind.lock(account, reason, lockFor, now);
  }

  @Override
  public CompletionStage<Boolean> unlock(String account) {
    return behind.unlock(account);
  }

  @Override
  public CompletionStage<List<Lock>> locks(Instant now) {
    return behind.locks(now);
  }

  @Override
  public CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now) {
    return behind.usage(account, windows, now);
  }

  @Override
  public CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now) {
    return behind.recordEvents(watch, account, n, window, max, now);
  }

  @Override
  public CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    return behind.sharedSecret(name, proposed);
  }

  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    return behind.seenOnce(key, ttl, now);
  }

  @Override
  public CompletionStage<Boolean> bind(String key, String owner, Duration ttl, Instant now) {
    return bindingsFail ? CompletableFuture.failedFuture(new IllegalStateException("store down"))
        : behind.bind(key, owner, ttl, now);
  }

  @Override
  public CompletionStage<Optional<String>> ownerOf(String key, Instant now) {
    return bindingsFail ? CompletableFuture.failedFuture(new IllegalStateException("store down")) : behind.ownerOf(key, now);
  }

  @Override
  public void close() {
    behind.close();
  }
}
