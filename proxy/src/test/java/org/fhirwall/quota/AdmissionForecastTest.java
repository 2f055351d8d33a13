package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a read may reach the EPR before the shared store has admitted it. */
class AdmissionForecastTest {
  final AdmissionForecast forecast = new AdmissionForecast(Duration.ofSeconds(1), 100);

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
  void anAdmissionLongAgoDoesNotCount() throws InterruptedException {
    AdmissionForecast brief = new AdmissionForecast(Duration.ofMillis(20), 100);
    brief.admitted("dave");
    brief.ended("dave");
    Thread.sleep(40);
    assertThat(brief.reserve("dave", 10)).isFalse();
  }
}
