package org.fhirwall.quota;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where distinct-patient windows and locks live: this process ({@link LocalQuotaStore}) or a
 * cluster. Every method is non-blocking; a store that cannot answer completes exceptionally, and
 * callers treat that as a refusal (never as "unlimited").
 */
public interface QuotaStore extends AutoCloseable {

  /** Charges a response's patients atomically: all counted, or none (see {@link ChargeResult}). */
  CompletionStage<ChargeResult> charge(ChargeRequest request);

  /** The account's lock in force at {@code now}, if any. */
  CompletionStage<Optional<Lock>> lockOf(String account, Instant now);

  /** Locks the account for {@code lockFor} from {@code now} (extending a shorter lock in force). */
  CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now);

  /** Lifts the account's lock; true when there was one. */
  CompletionStage<Boolean> unlock(String account);

  /** Every lock in force at {@code now}. */
  CompletionStage<List<Lock>> locks(Instant now);

  /** The account's current distinct-patient counts for these windows. */
  CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now);

  @Override
  void close();
}
