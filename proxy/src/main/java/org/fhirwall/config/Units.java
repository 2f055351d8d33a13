package org.fhirwall.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two value types a JSON Schema cannot compare: durations ({@code 500ms}, {@code 30s},
 * {@code 15m}, {@code 1h}, {@code 7d}) and byte sizes (a whole number of bytes, or {@code 512KiB},
 * {@code 64MiB}, {@code 1GiB}). The schemas check their form; their bounds are the schema's
 * {@code x-minimum}/{@code x-maximum}, compared here.
 */
final class Units {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,12})(B|KiB|MiB|GiB)?");

  private Units() {}

  /** @throws IllegalArgumentException when {@code text} is not a duration */
  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(text + " (expected: a duration such as 500ms, 30s, 15m, 1h, 7d)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A size written as a number of bytes or with a binary unit. @throws IllegalArgumentException when it is neither */
  static long bytes(JsonNode value) {
    if (value.isIntegralNumber()) {
      return value.longValue();
    }
    Matcher m = SIZE.matcher(value.asText().trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(value.asText() + " (expected: a size such as 8192, 512KiB, 64MiB)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    return switch (unit) {
      case "KiB" -> n << 10;
      case "MiB" -> n << 20;
      case "GiB" -> n << 30;
      default -> n;
    };
  }

  /** {@code value} in milliseconds when a duration, in bytes when a size (the schema's {@code x-unit}). */
  static long magnitude(JsonNode value, boolean duration) {
    return duration ? duration(value.asText()).toMillis() : bytes(value);
  }
}
