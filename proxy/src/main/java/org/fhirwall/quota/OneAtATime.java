package org.fhirwall.quota;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs tasks one at a time without making any thread wait: a task handed in while another thread
 * is running one is left in the queue, and that thread runs it before it returns. Each task returns
 * its completion, which runs after the tasks then queued are done (so a slow completion — the rest
 * of a request's work — holds up no other task's result for long). Thread-safe.
 *
 * <p>Why: event loops that took an account's monitor to charge it waited for milliseconds whenever
 * the OS pre-empted the holder (JFR: {@code jdk.JavaMonitorEnter} in {@code LocalQuotaStore.charge}),
 * and every connection of a waiting loop waited with it.
 */
final class OneAtATime {
  private final Queue<Supplier<Runnable>> tasks = new ConcurrentLinkedQueue<>();
  /** Tasks handed in and not yet run; whoever raises it from zero runs them all. */
  private final AtomicInteger queued = new AtomicInteger();

  /** Runs {@code task} now, or leaves it to the thread running one now; its completion runs on the same thread. */
  void run(Supplier<Runnable> task) {
    tasks.add(task);
    if (queued.getAndIncrement() != 0) {
      return;
    }
    List<Runnable> completions = new ArrayList<>(1);
    RuntimeException failed = null;
    int left = 1;
    while (left != 0) {
      int ran = 0;
      for (Supplier<Runnable> t; ran < left && (t = tasks.poll()) != null; ran++) {
        try {
          completions.add(t.get());
        } catch (RuntimeException e) { // the tasks queued behind it still run (else they would wait for ever)
          failed = failed == null ? e : failed;
        }
      }
      for (Runnable completion : completions) {
        try {
          completion.run();
        } catch (RuntimeException e) {
          failed = failed == null ? e : failed;
        }
      }
      completions.clear();
      left = queued.addAndGet(-ran);
    }
    if (failed != null) {
      throw failed; // to whoever ran the queue: a task or completion that throws is a bug
    }
  }
}
