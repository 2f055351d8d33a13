package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The new disclosure times of patients shown again in answers admitted from a replica's memory
 * ({@link KnownPatients}), gathered per principal and handed on at most once per {@code every}: a
 * principal reading the same fifty patients a thousand times a second costs Redis one write of
 * fifty times, not fifty thousand.
 *
 * <p>Why the delay changes no count: the memory admits an answer only while each of its patients'
 * last written time is at least a margin (more than {@code every}) inside every window, so until
 * the new time is written the patient is in the window anyway. What the delay costs is said in
 * the README: a replica killed outright loses up to {@code every} of such times (those patients
 * may leave a window that much early); a replica that stops writes them first ({@link #flushAll}).
 * Thread-safe.
 */
final class Redisclosures {

  /** Re-disclosures of one principal under one set of terms: patient → latest disclosure (epoch ms). */
  record Gathered(String account, KnownPatients.Terms terms, Map<String, Long> patients, Map<String, Long> unexplained) {}

  private final ConcurrentHashMap<String, Gathered> gathered = new ConcurrentHashMap<>();
  private final Duration every;
  private final Consumer<Gathered> write;
  private final Scheduler scheduler;

  /** Runs a task after a delay (never on the caller's thread). */
  interface Scheduler {
    void after(Duration delay, Runnable task);
  }

  Redisclosures(Duration every, Scheduler scheduler, Consumer<Gathered> write) {
    this.every = requireNonNull(every, "every");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.write = requireNonNull(write, "write");
  }

  /** Adds the patients of an answer admitted from memory; the first of a principal's batch starts its clock. */
  void add(ChargeRequest r) {
    KnownPatients.Terms terms = KnownPatients.Terms.of(r);
    Gathered[] replaced = {null};
    boolean[] first = {false};
    long at = r.now().toEpochMilli();
    gathered.compute(r.account(), (k, g) -> {
      Gathered out = g;
      if (out != null && !out.terms().equals(terms)) {
        replaced[0] = out;
        out = null;
      }
      if (out == null) {
        out = new Gathered(k, terms, new HashMap<>(), new HashMap<>());
        first[0] = g == null;
      }
      for (String p : r.patients()) {
        out.patients().merge(p, at, Math::max);
      }
      for (String p : r.unexplained().patients()) {
        out.unexplained().merge(p, at, Math::max);
      }
      return out;
    });
    if (replaced[0] != null) {
      write.accept(replaced[0]);
    }
    if (first[0]) {
      try {
        scheduler.after(every, () -> flush(r.account()));
      } catch (RuntimeException shuttingDown) {
        flush(r.account());
      }
    }
  }

  /**
   * Hands on what is gathered for the account now: before a charge of the account that Redis
   * checks, so that it sees them whatever its clock says.
   */
  void flush(String account) {
    Gathered g = gathered.remove(account);
    if (g != null) {
      write.accept(g);
    }
  }

  /** Hands on everything gathered, now (at shutdown). */
  void flushAll() {
    for (String account : java.util.List.copyOf(gathered.keySet())) {
      flush(account);
    }
  }
}
