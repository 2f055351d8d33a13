package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.audit.Trail;
import org.fhirwall.policy.Decision;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * How one exchange moves from stage to stage without blocking its event loop: an asynchronous
 * stage's result, or work too large for the loop done on the bounded heavy-work pool, always
 * continues on the exchange's own loop. A stage that throws, an exception or an error, ends the
 * exchange through {@code crashed} (a refusal, never a release). The one place such plumbing is written.
 */
final class Steps {
  private static final Logger LOG = LoggerFactory.getLogger(Steps.class);
  private static final String REQUEST_ID = "request_id";

  private final EventExecutor loop;
  private final Executor heavyWork;
  private final BiConsumer<Trail, Throwable> crashed;

  Steps(EventExecutor loop, Executor heavyWork, BiConsumer<Trail, Throwable> crashed) {
    this.loop = requireNonNull(loop, "loop");
    this.heavyWork = requireNonNull(heavyWork, "heavyWork");
    this.crashed = requireNonNull(crashed, "crashed");
  }

  /**
   * Runs a stage on the loop; an exception in it ends the exchange. While it runs, log lines carry
   * the request's id ({@code request_id}).
   */
  void run(Trail trail, Runnable stage) {
    String outer = MDC.get(REQUEST_ID);
    boolean nested = trail.requestId().equals(outer); // a stage that completed at once, run inside the one before
    if (!nested) {
      MDC.put(REQUEST_ID, trail.requestId());
    }
    try {
      stage.run();
    } catch (Throwable e) { // an Error too (a parser's stack overflow): the exchange is answered, never left waiting
      crashed.accept(trail, e);
    } finally {
      if (nested) {
        // the enclosing stage restores the outer id
      } else if (outer == null) {
        MDC.remove(REQUEST_ID);
      } else {
        MDC.put(REQUEST_ID, outer);
      }
    }
  }

  /** Continues on the loop with the stage's result, or with its failure. */
  <T> void await(Trail trail, CompletionStage<T> stage, Consumer<T> next, Consumer<Throwable> failed) {
    stage.whenComplete((value, error) -> onLoop(() -> run(trail, () -> {
      if (error != null) {
        LOG.warn("request {}: asynchronous stage failed: {}", trail.requestId(), error.toString());
        failed.accept(error);
      } else {
        next.accept(value);
      }
    })));
  }

  /**
   * Does {@code work} on the loop when it is light, on the heavy-work pool when it is not, and
   * continues on the loop with its result; {@code busy} runs when the pool is full.
   */
  <T> void offload(Trail trail, boolean heavy, Supplier<T> work, Consumer<T> next, Runnable busy) {
    if (!heavy) {
      run(trail, () -> next.accept(work.get()));
      return;
    }
    try {
      heavyWork.execute(() -> {
        T result;
        try {
          result = work.get();
        } catch (Throwable e) { // an Error too: else only the pool's task ends, and the exchange waits for ever
          onLoop(() -> run(trail, () -> crashed.accept(trail, e)));
          return;
        }
        onLoop(() -> run(trail, () -> next.accept(result)));
      });
    } catch (RejectedExecutionException e) {
      run(trail, busy);
    }
  }

  /** The trail with a remark of the quota store for the audit record (e.g. a replica enforcing its share alone). */
  static Trail noted(Trail t, @Nullable String note) {
    Decision.Allow a = t.allow();
    if (note == null || a == null) {
      return t;
    }
    List<String> notes = new ArrayList<>(a.notes());
    notes.add(note);
    return t.allowed(new Decision.Allow(a.role(), a.request(), a.account(), a.limits(), a.breakGlass(), notes, a.countOnly(),
        a.pinned()));
  }

  /** The trail with several remarks for the audit record (care relationships unavailable, a recent change). */
  static Trail noted(Trail t, List<String> notes) {
    Trail out = t;
    for (String n : notes) {
      out = noted(out, n);
    }
    return out;
  }

  private void onLoop(Runnable r) {
    if (loop.inEventLoop()) {
      r.run();
    } else {
      loop.execute(r);
    }
  }
}
