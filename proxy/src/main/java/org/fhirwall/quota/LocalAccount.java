package org.fhirwall.quota;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The patients of one account, per window length, oldest disclosure first. Guarded by its monitor;
 * its charges run one at a time through {@link #run}. Free of I/O.
 */
final class LocalAccount {
  private final Map<Duration, LinkedHashMap<String, Long>> windows = new HashMap<>();
  private volatile long retentionNanos = Duration.ofHours(1).toNanos();
  /** Its charges, one at a time, none waiting for another. */
  private final OneAtATime charges = new OneAtATime();

  /** Does {@code charge} now, or leaves it to the thread charging this account now (see {@link OneAtATime}). */
  void run(Supplier<Runnable> charge) {
    charges.run(charge);
  }

  long retentionNanos() {
    return retentionNanos;
  }

  LinkedHashMap<String, Long> window(PatientWindow w, long nowMillis) {
    return window(w.length(), nowMillis);
  }

  LinkedHashMap<String, Long> window(Duration length, long nowMillis) {
    LinkedHashMap<String, Long> seen = windows.computeIfAbsent(length, k -> new LinkedHashMap<>());
    long horizon = nowMillis - length.toMillis();
    Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator();
    while (it.hasNext()) {
      if (it.next().getValue() > horizon) {
        break;
      }
      it.remove();
    }
    long keep = length.toNanos();
    if (keep > retentionNanos) { // the account lives as long as its longest window
      retentionNanos = keep;
    }
    return seen;
  }

  /** Each window that holds patients (length, patients oldest first), as they are now; under the monitor. */
  void forEachWindow(BiConsumer<Duration, LinkedHashMap<String, Long>> each) {
    windows.forEach((length, seen) -> {
      if (!seen.isEmpty()) {
        each.accept(length, seen);
      }
    });
  }

  /** Records {@code patients} as disclosed at {@code now} in each window of {@code lengths} (latest first). */
  void record(Set<Duration> lengths, Set<String> patients, long now) {
    for (Duration length : lengths) {
      LinkedHashMap<String, Long> seen = window(length, now);
      for (String p : patients) {
        seen.remove(p);
        seen.put(p, now);
      }
    }
  }

  /**
   * When enough of the oldest patients (those not in this response) leave the window for the
   * response to fit; the whole window when it can never fit.
   */
  static Duration retryAfter(WindowUsage breached, LinkedHashMap<String, Long> seen, Set<String> patients, long now) {
    int excess = breached.distinct() - breached.window().max();
    long lengthMillis = breached.window().length().toMillis();
    int fresh = breached.distinct() - seen.size();
    if (fresh > breached.window().max()) {
      return breached.window().length();
    }
    int dropped = 0;
    for (Map.Entry<String, Long> e : seen.entrySet()) {
      if (patients.contains(e.getKey())) {
        continue;
      }
      if (++dropped >= excess) {
        long wait = e.getValue() + lengthMillis - now;
        return Duration.ofMillis(Math.max(1000, wait));
      }
    }
    return breached.window().length();
  }

  /** When the {@code index}-th oldest patient of a window (oldest first) leaves it. */
  static long leavesAt(LinkedHashMap<String, Long> seen, int index, long lengthMillis) {
    int i = 0;
    for (long at : seen.values()) {
      if (i++ == index) {
        return at + lengthMillis;
      }
    }
    throw new IllegalArgumentException("index: " + index + " (expected: < " + seen.size() + ")");
  }
}
