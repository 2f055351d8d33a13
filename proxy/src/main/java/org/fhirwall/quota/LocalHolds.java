package org.fhirwall.quota;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The local store's at-limit holds after a response refused over a limit ({@link QuotaStore#hold}): account → the epoch
 * ms until which it is held, never shortened. At most {@code max} are kept before the ended ones are dropped; beyond,
 * a hold is still kept (forgetting one would let its account ask again). Thread-safe.
 */
final class LocalHolds {
  private final Map<String, Long> untilMillis = new ConcurrentHashMap<>();
  private final int max;

  LocalHolds(int max) {
    this.max = max;
  }

  /** Until when (epoch ms) the account is held at {@code nowMillis}; 0 when it is not. */
  long until(String account, long nowMillis) {
    Long until = untilMillis.get(account);
    if (until == null) {
      return 0;
    }
    if (until <= nowMillis) {
      untilMillis.remove(account, until);
      return 0;
    }
    return until;
  }

  void hold(String account, long until, long nowMillis) {
    if (untilMillis.size() >= max) {
      untilMillis.values().removeIf(u -> u <= nowMillis);
    }
    untilMillis.merge(account, until, Math::max);
  }

  /** Every hold in force at {@code nowMillis} (for the state file). */
  void forEach(long nowMillis, BiConsumer<String, Long> each) {
    untilMillis.forEach((account, until) -> {
      if (until > nowMillis) {
        each.accept(account, until);
      }
    });
  }
}
