package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The local store's bindings ({@link QuotaStore#bind}): key → owner until an instant. An expired
 * binding is dropped where it is met, and all of them when the table is full; with {@code max}
 * live bindings, a new one is refused (completed exceptionally by the store) rather than a live one
 * forgotten: the store fails closed. Thread-safe.
 */
final class LocalBindings {
  /** One binding: its owner, and when it ends (epoch ms, exclusive). */
  record Binding(String owner, long untilMillis) {
    Binding {
      requireNonNull(owner, "owner");
    }

    boolean liveAt(long nowMillis) {
      return untilMillis > nowMillis;
    }
  }

  private final ConcurrentHashMap<String, Binding> bindings = new ConcurrentHashMap<>();
  private final int max;
  /** Binds since expired bindings were last dropped (every {@link #SWEEP_EVERY}: the state file keeps few stale ones). */
  private final AtomicInteger sinceSweep = new AtomicInteger();
  static final int SWEEP_EVERY = 256;

  LocalBindings(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= 1)");
    }
    this.max = max;
  }

  /**
   * Binds {@code key} to {@code owner} until {@code untilMillis} unless another owner holds it;
   * true when {@code owner} holds it afterwards.
   *
   * @throws IllegalStateException when {@code max} live bindings leave no room for a new one
   */
  boolean bind(String key, String owner, long nowMillis, long untilMillis) {
    requireNonNull(key, "key");
    requireNonNull(owner, "owner");
    if (sinceSweep.incrementAndGet() >= SWEEP_EVERY) {
      sinceSweep.set(0);
      bindings.values().removeIf(b -> !b.liveAt(nowMillis));
    }
    if (bindings.size() >= max && !bindings.containsKey(key)) {
      bindings.values().removeIf(b -> !b.liveAt(nowMillis));
      if (bindings.size() >= max) {
        throw new IllegalStateException("quota store full: " + max + " bindings in force (bulk export jobs and files)");
      }
    }
    Binding mine = new Binding(owner, untilMillis);
    Binding after = bindings.compute(key,
        (k, old) -> old == null || !old.liveAt(nowMillis) || old.owner().equals(owner) ? mine : old);
    return after == mine;
  }

  /** The owner of {@code key} at {@code nowMillis}, if any. */
  Optional<String> ownerOf(String key, long nowMillis) {
    Binding b = bindings.get(requireNonNull(key, "key"));
    if (b == null) {
      return Optional.empty();
    }
    if (!b.liveAt(nowMillis)) {
      bindings.remove(key, b);
      return Optional.empty();
    }
    return Optional.of(b.owner());
  }

  /** A binding read back from the state file (kept as it was, expiry included). */
  void restore(String key, Binding binding) {
    bindings.put(key, binding);
  }

  /** Every binding held (for the state file), expired ones included until they are met. */
  void forEach(BiConsumer<String, Binding> each) {
    bindings.forEach(each);
  }
}
