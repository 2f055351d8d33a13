package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventWatchTest {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  final EventWatch watch = new EventWatch(100);

  @Test
  void manyMissesInTheWindowFireTheSignalOnce() {
    for (int i = 0; i < 5; i++) {
      assertThat(watch.record("walker", 1, Duration.ofMinutes(10), 5, T0.plusSeconds(i))).isFalse();
    }
    assertThat(watch.record("walker", 1, Duration.ofMinutes(10), 5, T0.plusSeconds(6))).isTrue();
    assertThat(watch.record("walker", 1, Duration.ofMinutes(10), 5, T0.plusSeconds(7))).isFalse();
    assertThat(watch.record("someone-else", 1, Duration.ofMinutes(10), 5, T0.plusSeconds(8))).isFalse();
  }

  @Test
  void severalEventsAtOnceCountOneByOne() {
    assertThat(watch.record("batch", 5, Duration.ofMinutes(10), 5, T0)).isFalse();
    assertThat(watch.record("batch", 1, Duration.ofMinutes(10), 5, T0.plusSeconds(1))).isTrue();
    assertThat(watch.record("batch", 6, Duration.ofMinutes(10), 5, T0.plusSeconds(2))).as("one bundle over the threshold").isTrue();
    assertThat(watch.record("batch", 0, Duration.ofMinutes(10), 5, T0.plusSeconds(3))).isFalse();
  }

  @Test
  void missesOutsideTheWindowDoNotCount() {
    for (int i = 0; i < 5; i++) {
      watch.record("slow", 1, Duration.ofMinutes(10), 5, T0.plus(Duration.ofMinutes(3L * i)));
    }
    assertThat(watch.record("slow", 1, Duration.ofMinutes(10), 5, T0.plus(Duration.ofMinutes(15)))).isFalse();
  }
}
