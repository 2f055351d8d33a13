package org.fhirwall.quota;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A replica's memory of the disclosures Redis has confirmed to it, so that an answer naming only
 * patients already counted in every window it is charged to can be admitted without asking Redis
 * first (a clinician reading the same few patients again and again: the common case).
 *
 * <p>Why that is exact: re-disclosing a patient who is in a window adds nothing to the window's
 * count, so it can never take the account over a limit the last confirmed charge left room in
 * (other replicas only ever fill a window up to the same limits). A patient confirmed at {@code t}
 * stays in a window of length {@code L} until {@code t + L}; the memory answers only until
 * {@code t + L - margin}, the margin covering the clocks of replicas and the time the new
 * disclosure takes to reach Redis (the caller gathers such times and writes them within a fraction
 * of a second, {@link Redisclosures}; until then the patient's older time keeps it in the window).
 * When that write fails, or the connection drops, the account's memory (or all of it) is
 * forgotten, and charges ask Redis again.
 *
 * <p>The usage it reports is the one the last confirmed charge of these terms saw: other replicas'
 * charges since are not in it (they are in Redis, and in the next charge that asks it). Bounded:
 * at most {@code maxAccounts} accounts and {@code maxPatients} patients each; beyond, charges ask
 * Redis. Thread-safe.
 */
final class KnownPatients {

  /** What a charge is measured against: two charges with equal terms may share the memory. */
  record Terms(List<PatientWindow> limits, Set<Duration> tracked, boolean enforce, List<PatientWindow> unexplainedLimits,
      Set<Duration> unexplainedTracked, boolean unexplainedEnforce) {
    static Terms of(ChargeRequest r) {
      return new Terms(r.limits(), r.tracked(), r.enforce(), r.unexplained().limits(), r.unexplained().tracked(),
          r.unexplained().enforce());
    }
  }

  /** One account's confirmed disclosures (epoch ms), guarded by its monitor. */
  private static final class Account {
    Terms terms;
    List<WindowUsage> usage = List.of();
    final Map<String, Long> seen = new HashMap<>();
    final Map<String, Long> seenUnexplained = new HashMap<>();

    Account(Terms terms) {
      this.terms = terms;
    }
  }

  /** Larger answers ask Redis (their re-disclosure would not fit one script call). */
  static final int MAX_REMEMBERED_ANSWER = 500;

  private final ConcurrentHashMap<String, Account> accounts = new ConcurrentHashMap<>();
  private final Duration margin;
  private final int maxAccounts;
  private final int maxPatients;

  KnownPatients(Duration margin, int maxAccounts, int maxPatients) {
    this.margin = margin;
    this.maxAccounts = maxAccounts;
    this.maxPatients = maxPatients;
  }

  /**
   * The admission of {@code r} when every one of its patients is known to be counted in every
   * window it is charged to and the last confirmed usage left room in every limit; empty when
   * Redis must be asked.
   */
  Optional<ChargeResult.Admitted> admit(ChargeRequest r) {
    if (r.patients().isEmpty() || r.patients().size() > MAX_REMEMBERED_ANSWER) {
      return Optional.empty();
    }
    Account a = accounts.get(r.account());
    if (a == null) {
      return Optional.empty();
    }
    long now = r.now().toEpochMilli();
    synchronized (a) {
      if (!a.terms.equals(Terms.of(r)) || a.usage.isEmpty()) {
        return Optional.empty();
      }
      for (WindowUsage u : a.usage) {
        if (u.distinct() > u.window().max()) {
          return Optional.empty();
        }
      }
      if (!allKnown(a.seen, r.patients(), now - reach(r.tracked()))
          || !allKnown(a.seenUnexplained, r.unexplained().patients(), now - reach(r.unexplained().tracked()))) {
        return Optional.empty();
      }
      return Optional.of(new ChargeResult.Admitted(a.usage, 0, null));
    }
  }

  /** How far back a confirmation still answers for these windows: the shortest less the margin. */
  private long reach(Set<Duration> lengths) {
    long shortest = Long.MAX_VALUE;
    for (Duration d : lengths) {
      shortest = Math.min(shortest, d.toMillis());
    }
    return shortest == Long.MAX_VALUE ? 0 : shortest - margin.toMillis();
  }

  private static boolean allKnown(Map<String, Long> seen, Set<String> patients, long since) {
    for (String p : patients) {
      Long at = seen.get(p);
      if (at == null || at < since) {
        return false;
      }
    }
    return true;
  }

  /** Redis admitted {@code r} (a charge it checked): its patients are counted as of {@code r.now()}. */
  void confirmed(ChargeRequest r, ChargeResult.Admitted admitted) {
    Terms terms = Terms.of(r);
    Account a = accounts.get(r.account());
    if (a == null) {
      if (accounts.size() >= maxAccounts) {
        prune(System.currentTimeMillis());
        if (accounts.size() >= maxAccounts) {
          return;
        }
      }
      a = accounts.computeIfAbsent(r.account(), k -> new Account(terms));
    }
    synchronized (a) {
      if (!a.terms.equals(terms)) {
        a.terms = terms;
        a.seen.clear();
        a.seenUnexplained.clear();
      }
      a.usage = admitted.usage();
      record(a.seen, r.patients(), r.now().toEpochMilli());
      record(a.seenUnexplained, r.unexplained().patients(), r.now().toEpochMilli());
    }
  }

  /** Re-disclosures (patient → epoch ms) of answers admitted from memory under {@code terms} have reached Redis. */
  void written(String account, Terms terms, Map<String, Long> patients, Map<String, Long> unexplained) {
    Account a = accounts.get(account);
    if (a == null) {
      return;
    }
    synchronized (a) {
      if (a.terms.equals(terms)) {
        patients.forEach((p, at) -> merge(a.seen, p, at));
        unexplained.forEach((p, at) -> merge(a.seenUnexplained, p, at));
      }
    }
  }

  private void merge(Map<String, Long> seen, String patient, long at) {
    if (seen.size() < maxPatients || seen.containsKey(patient)) {
      seen.merge(patient, at, Math::max);
    }
  }

  private void record(Map<String, Long> seen, Set<String> patients, long at) {
    for (String p : patients) {
      if (seen.size() >= maxPatients && !seen.containsKey(p)) {
        continue;
      }
      seen.merge(p, at, Math::max);
    }
  }

  /** Forgets the account: its next charge asks Redis. */
  void forget(String account) {
    accounts.remove(account);
  }

  /** Forgets everything (the connection dropped: Redis may have lost writes, or been replaced). */
  void forgetAll() {
    accounts.clear();
  }

  /** Drops accounts none of whose confirmations can answer any more. */
  private void prune(long nowMillis) {
    accounts.entrySet().removeIf(e -> {
      Account a = e.getValue();
      synchronized (a) {
        long since = nowMillis - reach(a.terms.tracked());
        return a.seen.values().stream().allMatch(t -> t < since);
      }
    });
  }

  /** For tests: whether the account has a memory at all. */
  boolean knows(String account) {
    return accounts.containsKey(account);
  }
}
