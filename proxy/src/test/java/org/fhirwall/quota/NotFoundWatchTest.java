package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class NotFoundWatchTest {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  final NotFoundWatch watch = new NotFoundWatch(100);

  @Test
  void manyMissesInTheWindowFireTheSignalOnce() {
    for (int i = 0; i < 5; i++) {
      assertThat(watch.notFound("walker", Duration.ofMinutes(10), 5, T0.plusSeconds(i))).isFalse();
    }
    assertThat(watch.notFound("walker", Duration.ofMinutes(10), 5, T0.plusSeconds(6))).isTrue();
    assertThat(watch.notFound("walker", Duration.ofMinutes(10), 5, T0.plusSeconds(7))).isFalse();
    assertThat(watch.notFound("someone-else", Duration.ofMinutes(10), 5, T0.plusSeconds(8))).isFalse();
  }

  @Test
  void missesOutsideTheWindowDoNotCount() {
    for (int i = 0; i < 5; i++) {
      watch.notFound("slow", Duration.ofMinutes(10), 5, T0.plus(Duration.ofMinutes(3L * i)));
    }
    assertThat(watch.notFound("slow", Duration.ofMinutes(10), 5, T0.plus(Duration.ofMinutes(15)))).isFalse();
  }
}
