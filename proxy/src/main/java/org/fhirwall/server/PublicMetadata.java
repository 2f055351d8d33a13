package org.fhirwall.server;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The public CapabilityStatement, kept {@link #FRESH_FOR} once made: anyone may ask for it without
 * a token, and a flood of such requests must cost the EPR one call a minute, not one each.
 * Thread-safe.
 */
final class PublicMetadata {
  static final Duration FRESH_FOR = Duration.ofMinutes(1);

  private record Made(byte[] body, Instant at) {}

  private final AtomicReference<@Nullable Made> last = new AtomicReference<>();

  /** The statement made less than a minute before {@code now}, or null. */
  byte @Nullable [] fresh(Instant now) {
    Made m = last.get();
    return m != null && m.at().plus(FRESH_FOR).isAfter(now) ? m.body() : null;
  }

  void keep(byte[] body, Instant now) {
    last.set(new Made(body, now));
  }
}
