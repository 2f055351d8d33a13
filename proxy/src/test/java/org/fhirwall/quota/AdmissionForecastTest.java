package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** When a read may reach the EPR before the shared store has admitted it (time moved by the test). */
class AdmissionForecastTest {
  final AtomicLong nanos = new AtomicLong();
  final AdmissionForecast forecast = new AdmissionForecast(Duration.ofSeconds(1), 100, nanos::get);

  @Test
  void aPrincipalNeverAdmittedWaitsForTheStore() {
    assertThat(forecast.reserve("new", 10)).isFalse();
  }

  @Test
  void aPrincipalAdmittedMomentsAgoMayGoAhead() {
    forecast.admitted("alice");
    forecast.ended("alice");
    assertThat(forecast.reserve("alice", 10)).isTrue();
  }

  @Test
  void aRefusalStopsItUntilTheNextAdmission() {
    forecast.admitted("bob");
    forecast.ended("bob");
    forecast.refused("bob");
    assertThat(forecast.reserve("bob", 10)).as("locked, over its rate, or the store failed").isFalse();
    forecast.admitted("bob");
    forecast.ended("bob");
    assertThat(forecast.reserve("bob", 10)).isTrue();
  }

  @Test
  void noMoreGoAheadThanItsConcurrencyCountingThoseUnderWay() {
    forecast.admitted("carol");
    assertThat(forecast.reserve("carol", 3)).isTrue();
    assertThat(forecast.reserve("carol", 3)).isTrue();
    assertThat(forecast.reserve("carol", 3)).as("one admitted and two ahead under way").isFalse();
    forecast.settled("carol");
    assertThat(forecast.reserve("carol", 3)).isTrue();
  }

  @Test
  void anAdmissionLongAgoDoesNotCount() {
    forecast.admitted("dave");
    forecast.ended("dave");
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(forecast.reserve("dave", 10)).as("a second ago: still recent").isTrue();
    forecast.settled("dave");
    nanos.incrementAndGet();
    assertThat(forecast.reserve("dave", 10)).as("more than a second ago").isFalse();
  }
}
