package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.fhirwall.audit.Trail;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stage that fails ends its exchange through {@code crashed} (a refusal) whatever it throws: an
 * {@link Error} (a stack overflow in a parser fed a deeply nested answer, a class that failed to
 * load) as well as an exception, on the loop as on the heavy-work pool. Before, an error on the
 * pool ended only the pool's task: the exchange was never answered, its client waited, its
 * concurrency slot and audit record were never given back or written.
 */
class StepsTest {
  private final ExecutorService pool = Executors.newSingleThreadExecutor();
  private final List<Throwable> crashes = new CopyOnWriteArrayList<>();
  private final List<Object> continued = new CopyOnWriteArrayList<>();
  private final Steps steps = new Steps(ImmediateEventExecutor.INSTANCE, pool, (t, e) -> crashes.add(e));
  private final Trail trail = Trail.arrived("r1", Instant.EPOCH, 0, "127.0.0.1", "GET", "/fhir/Patient/p1", null);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void anErrorInHeavyWorkEndsTheExchange() throws Exception {
    offload(true, () -> {
      throw new StackOverflowError("a deeply nested answer");
    });
    assertThat(crashes).singleElement().isInstanceOf(StackOverflowError.class);
    assertThat(continued).isEmpty();
  }

  @Test
  void anErrorInLightWorkOnTheLoopEndsTheExchange() throws Exception {
    offload(false, () -> {
      throw new NoClassDefFoundError("org/fhirwall/Gone");
    });
    assertThat(crashes).singleElement().isInstanceOf(NoClassDefFoundError.class);
    assertThat(continued).isEmpty();
  }

  @Test
  void anExceptionEndsTheExchangeAsBefore() throws Exception {
    offload(true, () -> {
      throw new IllegalStateException("broken");
    });
    assertThat(crashes).singleElement().isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aStageOnTheLoopThatThrowsAnErrorEndsTheExchange() {
    steps.run(trail, () -> {
      throw new AssertionError("unexpected");
    });
    assertThat(crashes).singleElement().isInstanceOf(AssertionError.class);
  }

  @Test
  void workThatSucceedsContinuesWithItsResult() throws Exception {
    offload(true, () -> "answer");
    assertThat(continued).containsExactly("answer");
    assertThat(crashes).isEmpty();
  }

  private void offload(boolean heavy, Supplier<Object> work) throws InterruptedException {
    steps.offload(trail, heavy, work, continued::add, () -> continued.add("busy"));
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }
}
