package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An account's lane at shutdown, with timers that never run: what a Netty event loop does to the
 * tasks scheduled on it once it stops (it cancels them), so a lane must not count on its linger
 * timer, nor {@code drain} on polling, to send what was admitted before the store closes.
 */
class RedisLanesTest {
  /** Scripts sent to "Redis": each {@code EVALSHA} answered at once, as an {@code enter.lua} batch without admissions is. */
  final List<String> sent = Collections.synchronizedList(new ArrayList<>());
  final RedisScripts scripts = new RedisScripts(answering(sent), new RedisKeys("fw:"));
  final DeadTimers timers = new DeadTimers();
  final RedisLanes lanes = new RedisLanes(() -> scripts, a -> new EnterScript.AccountKeys(a + ":rate", a + ":inflight", a + ":lock", a + ":held"),
      () -> timers, Duration.ofMillis(2));

  @AfterEach
  void stopTimers() {
    timers.shutdownNow();
  }

  static RedisLanes.Disclose disclose(String patient, AtomicReference<Boolean> written) {
    return new RedisLanes.Disclose(Map.of("fw:{a}:w:3600000", 3_600_000L), Map.of(patient, 1L), written::set);
  }

  @Test
  void aReDisclosureQueuedBehindACallInFlightIsSentWhenItsReplyComesDuringTheDrain() {
    CompletableFuture<Object> charge = new CompletableFuture<>(); // a charge whose reply has not come yet
    lanes.now("a", new RedisLanes.Own(here -> charge, new CompletableFuture<>()));
    AtomicReference<Boolean> written = new AtomicReference<>();
    lanes.later("a", disclose("p1", written));
    CompletableFuture<RedisLanes.Left> drained = lanes.drain(Duration.ofMinutes(1));
    assertThat(sent).as("waits behind the charge").isEmpty();

    charge.complete(List.of()); // the lane would now linger on a timer the stopped loop never runs

    assertThat(sent).as("sent at once, not after a linger").hasSize(1);
    assertThat(written.get()).isTrue();
    assertThat(drained).as("idle: the last reply completes the drain, no timer polls").isCompletedWithValue(new RedisLanes.Left(0, 0));
    assertThat(timers.scheduled).as("nothing waits on a timer").isEmpty();
  }

  @Test
  void workQueuedAfterTheDrainBeganGoesAtOnce() {
    assertThat(lanes.drain(Duration.ofMinutes(1))).isCompletedWithValue(new RedisLanes.Left(0, 0));
    AtomicReference<Boolean> written = new AtomicReference<>();
    lanes.later("a", disclose("p2", written)); // e.g. a request ending while the server stops gives its slot back
    assertThat(sent).hasSize(1);
    assertThat(written.get()).isTrue();
    assertThat(timers.scheduled).isEmpty();
  }

  @Test
  void aDrainWhoseCallIsNeverAnsweredEndsAndSaysWhatItLeft() {
    lanes.now("a", new RedisLanes.Own(here -> new CompletableFuture<>(), new CompletableFuture<>()));
    lanes.later("a", disclose("p3", new AtomicReference<>()));
    RedisLanes.Left left = lanes.drain(Duration.ofMillis(50)).join();
    assertThat(left).as("one call unanswered, one re-disclosure behind it").isEqualTo(new RedisLanes.Left(1, 1));
    assertThat(left.nothing()).isFalse();
  }

  @Test
  void beforeTheDrainAReDisclosureLingersForTheAccountsNextCallAndTheDrainSendsIt() {
    AtomicReference<Boolean> written = new AtomicReference<>();
    lanes.later("a", disclose("p4", written));
    assertThat(sent).isEmpty();
    assertThat(timers.scheduled).as("its linger timer, which will never run").hasSize(1);
    assertThat(lanes.drain(Duration.ofMinutes(1))).isCompletedWithValue(new RedisLanes.Left(0, 0));
    assertThat(sent).hasSize(1);
    assertThat(written.get()).isTrue();
  }

  @Test
  void aSlotGivenBackWaitsItsOwnLingerNotOnlyUntilATimerSetForAnEarlierOneRuns() {
    AtomicLong now = new AtomicLong();
    RedisLanes timed = new RedisLanes(() -> scripts, a -> new EnterScript.AccountKeys(a + ":rate", a + ":inflight", a + ":lock",
        a + ":held"), () -> timers, Duration.ofMillis(2), now::get);
    timed.later("a", new RedisLanes.GiveBack("t1")); // at 0: a timer for 2 ms
    now.set(1_000_000);
    timed.now("a", new RedisLanes.Own(here -> CompletableFuture.completedFuture(List.of()), new CompletableFuture<>()));
    assertThat(sent).as("t1 went with the account's next call").hasSize(1);
    now.set(1_500_000);
    timed.later("a", new RedisLanes.GiveBack("t2")); // the timer set for t1 is still to come
    now.set(2_000_000);
    timers.scheduled.get(0).run();
    assertThat(sent).as("t2 has waited 0.5 ms of its 2: it waits on for the next call").hasSize(1);
    assertThat(timers.delays).as("its timer set again for the rest of its linger").containsExactly(2_000_000L, 1_500_000L);
    now.set(3_500_000);
    timers.scheduled.get(1).run();
    assertThat(sent).as("no call came in its 2 ms: t2 goes alone").hasSize(2);
  }

  /**
   * Charges queued behind a call in flight, with a re-disclosure between them: once its reply comes they all go at
   * once, in the order asked, on the one connection (Redis runs a connection's calls in order, so each sees what was
   * asked before it). Before, each charge waited for the reply to the call before it: under load a principal's charges
   * went one round trip at a time.
   */
  @Test
  void chargesQueuedBehindACallInFlightGoTogetherInTheOrderAsked() {
    CompletableFuture<Object> first = new CompletableFuture<>();
    lanes.now("a", new RedisLanes.Own(here -> first, new CompletableFuture<>()));
    lanes.now("a", new RedisLanes.Own(here -> charge("charge-2"), new CompletableFuture<>()));
    AtomicReference<Boolean> written = new AtomicReference<>();
    lanes.later("a", disclose("p1", written));
    lanes.now("a", new RedisLanes.Own(here -> charge("charge-3"), new CompletableFuture<>()));
    assertThat(sent).as("all wait behind the call in flight").isEmpty();

    first.complete(List.of());

    assertThat(sent).as("in the order asked, none waiting for another's reply").hasSize(3);
    assertThat(sent.get(0)).isEqualTo("charge-2");
    assertThat(sent.get(1)).as("the re-disclosure, before the charge asked after it").isNotEqualTo("charge-3");
    assertThat(sent.get(2)).isEqualTo("charge-3");
    assertThat(written.get()).isTrue();
  }

  /** A charge's call that records its name in {@link #sent} and is answered later (its reply never comes here). */
  private CompletableFuture<?> charge(String name) {
    sent.add(name);
    return new CompletableFuture<>();
  }

  /** Accepts every task and never runs one (an event loop that has stopped cancels what was scheduled on it). */
  static final class DeadTimers extends ScheduledThreadPoolExecutor {
    final List<Runnable> scheduled = Collections.synchronizedList(new ArrayList<>());
    final List<Long> delays = Collections.synchronizedList(new ArrayList<>());

    DeadTimers() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      scheduled.add(task);
      delays.add(unit.toNanos(delay));
      return super.schedule(() -> { }, 1, TimeUnit.DAYS);
    }
  }

  /** A Redis client whose {@code EVALSHA} is answered at once with {@code [0]} (not locked, no admission). */
  @SuppressWarnings("unchecked")
  static RedisClusterAsyncCommands<String, String> answering(List<String> sent) {
    return (RedisClusterAsyncCommands<String, String>) Proxy.newProxyInstance(RedisLanesTest.class.getClassLoader(),
        new Class<?>[] {RedisClusterAsyncCommands.class}, (proxy, method, args) -> {
          if (method.getName().equals("evalsha")) {
            sent.add((String) args[0]);
            return new Answered<>(List.of(0L));
          }
          throw new UnsupportedOperationException(method.getName());
        });
  }

  /** A reply already in. */
  static final class Answered<T> extends CompletableFuture<T> implements RedisFuture<T> {
    Answered(T value) {
      complete(value);
    }

    @Override
    public String getError() {
      return null;
    }

    @Override
    public boolean await(long timeout, TimeUnit unit) {
      return true;
    }
  }
}
