package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OpenConnectionsTest {
  @Test
  void connectionsAcceptedOnManyThreadsAtOnceAreAdmittedExactlyUpToTheCap() throws Exception {
    OpenConnections connections = new OpenConnections(100);
    Map<OpenConnections.Admission, AtomicInteger> seen = new ConcurrentHashMap<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> loops = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread loop = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (int i = 0; i < 1000; i++) {
          seen.computeIfAbsent(connections.open(), k -> new AtomicInteger()).incrementAndGet();
        }
      });
      loop.start();
      loops.add(loop);
    }
    go.countDown();
    for (Thread loop : loops) {
      loop.join();
    }
    assertThat(seen.get(OpenConnections.Admission.ADMITTED)).hasValue(100);
    assertThat(seen.get(OpenConnections.Admission.REFUSED_FIRST)).as("one warning, not one per refusal").hasValue(1);
    assertThat(seen.get(OpenConnections.Admission.REFUSED)).hasValue(7899);
    assertThat(connections.count()).isEqualTo(8000);
    assertThat(connections.refused()).isEqualTo(7900);
  }

  @Test
  void aClosedConnectionMakesRoomAndTheEndOfRefusalsIsToldOnceWellUnderTheCap() {
    OpenConnections connections = new OpenConnections(20);
    for (int i = 0; i < 20; i++) {
      assertThat(connections.open()).isEqualTo(OpenConnections.Admission.ADMITTED);
    }
    assertThat(connections.open()).isEqualTo(OpenConnections.Admission.REFUSED_FIRST);
    assertThat(connections.closed()).as("the refused one closes: at the cap still").isFalse();
    assertThat(connections.closed()).as("19 open").isFalse();
    assertThat(connections.open()).as("room for one").isEqualTo(OpenConnections.Admission.ADMITTED);
    assertThat(connections.open()).as("still in the same period of refusals").isEqualTo(OpenConnections.Admission.REFUSED);
    List<Boolean> ends = new ArrayList<>();
    for (int i = 0; i < 21; i++) {
      ends.add(connections.closed());
    }
    assertThat(ends).containsOnlyOnce(true);
    assertThat(ends.indexOf(true)).as("told at 18 open (a tenth under the cap)").isEqualTo(2);
    assertThat(connections.count()).isZero();
    assertThat(connections.refused()).isEqualTo(2);
  }

  @Test
  void aCapBelowOneIsRefused() {
    assertThatThrownBy(() -> new OpenConnections(0)).hasMessage("max: 0 (expected: > 0)");
  }
}
