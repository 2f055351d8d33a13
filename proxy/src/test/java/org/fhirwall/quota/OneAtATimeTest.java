package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OneAtATimeTest {
  private final OneAtATime serial = new OneAtATime();

  @Test
  void aTaskHandedInWhileAnotherRunsIsLeftToThatThreadAndTheCallerDoesNotWait() throws Exception {
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    List<String> log = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "first"));
    try {
      Future<?> first = pool.submit(() -> serial.run(() -> {
        firstStarted.countDown();
        await(releaseFirst);
        log.add("task 1 on " + Thread.currentThread().getName());
        return () -> log.add("completion 1 on " + Thread.currentThread().getName());
      }));
      await(firstStarted);
      // the first task is running (and cannot end before releaseFirst): this call must return without running its task
      serial.run(() -> {
        log.add("task 2 on " + Thread.currentThread().getName());
        return () -> log.add("completion 2 on " + Thread.currentThread().getName());
      });
      assertThat(log).as("the caller returned at once, its task left to the thread running one").isEmpty();
      releaseFirst.countDown();
      first.get(10, TimeUnit.SECONDS);
      assertThat(log).containsExactly("task 1 on first", "completion 1 on first", "task 2 on first", "completion 2 on first");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aTaskHandedInByACompletionRunsAfterItOnTheSameThread() {
    List<String> log = new CopyOnWriteArrayList<>();
    serial.run(() -> {
      log.add("task 1");
      return () -> {
        log.add("completion 1");
        serial.run(() -> {
          log.add("task 2");
          return () -> log.add("completion 2");
        });
        log.add("completion 1 returned");
      };
    });
    assertThat(log).containsExactly("task 1", "completion 1", "completion 1 returned", "task 2", "completion 2");
  }

  @Test
  void tasksFromManyThreadsAllRunAndNeverTwoAtOnce() throws Exception {
    int threads = 8;
    int each = 20_000;
    AtomicInteger running = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    int[] count = {0}; // written by the tasks only: one at a time, so no lock
    AtomicInteger completions = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          await(start);
          for (int i = 0; i < each; i++) {
            serial.run(() -> {
              if (running.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
              }
              count[0]++;
              running.decrementAndGet();
              return completions::incrementAndGet;
            });
          }
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    // every run() has returned, and each task ran on a pool thread before its run() returned: the futures' get() makes
    // every write to count[0] visible here
    assertThat(overlaps.get()).isZero();
    assertThat(count[0]).isEqualTo(threads * each);
    assertThat(completions.get()).isEqualTo(threads * each);
  }

  @Test
  void aTaskThatThrowsLeavesTheTasksBehindItToRunAndTheQueueFree() {
    List<String> log = new CopyOnWriteArrayList<>();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> serial.run(() -> {
      serial.run(() -> {
        log.add("task 2");
        return () -> log.add("completion 2");
      });
      throw new IllegalStateException("a bug");
    })).isInstanceOf(IllegalStateException.class);
    assertThat(log).as("the task queued behind the one that threw ran").containsExactly("task 2", "completion 2");
    serial.run(() -> {
      log.add("task 3");
      return () -> { };
    });
    assertThat(log).as("the queue is free again: a new task runs at once").endsWith("task 3");
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
