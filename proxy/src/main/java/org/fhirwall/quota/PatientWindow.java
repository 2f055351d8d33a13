package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * A sliding window over which at most {@code max} distinct patients may be disclosed to one
 * account. {@code name} identifies the window in stores, audit records and refusals (e.g. {@code 1h});
 * a window of the unexplained budget (patients outside the principal's care relationships) is
 * named {@code unexplained-24h}.
 */
public record PatientWindow(String name, Duration length, int max) {
  public PatientWindow {
    requireNonNull(name, "name");
    requireNonNull(length, "length");
    if (length.isNegative() || length.isZero()) {
      throw new IllegalArgumentException("length: " + length + " (expected: > 0)");
    }
    if (max < 1) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= 1)");
    }
  }

  /** A window named after its length: {@code 1h}, {@code 24h}, {@code 15m}. */
  public static PatientWindow of(Duration length, int max) {
    return new PatientWindow(nameOf(length), length, max);
  }

  /** A window of the unexplained budget, named {@code unexplained-} and its length. */
  public static PatientWindow unexplained(Duration length, int max) {
    return new PatientWindow(UNEXPLAINED + nameOf(length), length, max);
  }

  private static final String UNEXPLAINED = "unexplained-";

  /** Whether this window counts only patients outside the principal's care relationships. */
  public boolean unexplained() {
    return name.startsWith(UNEXPLAINED);
  }

  static String nameOf(Duration d) {
    long s = d.toSeconds();
    if (s > 0 && s % 86400 == 0 && s / 86400 != 1) {
      return (s / 86400) + "d";
    }
    if (s > 0 && s % 3600 == 0) {
      return (s / 3600) + "h";
    }
    if (s > 0 && s % 60 == 0) {
      return (s / 60) + "m";
    }
    if (d.toMillis() % 1000 == 0) {
      return s + "s";
    }
    return d.toMillis() + "ms";
  }
}
