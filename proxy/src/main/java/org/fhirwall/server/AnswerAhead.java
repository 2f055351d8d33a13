package org.fhirwall.server;

import io.netty.util.concurrent.Future;
import java.util.function.Function;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;

/**
 * The EPR's answer to a read sent ahead of its admission (the store foresaw admitting it; see
 * {@code QuotaStore.admit}). When the answer comes first and is small enough for the event loop,
 * it is copied out and inspected at once, while the admission is still on its way: the loop would
 * otherwise wait idle for the store, then inspect. Inspecting has no effect outside: nothing is
 * charged, answered or signalled before the admission.
 *
 * <p>Exactly one of two things happens to the answer: the exchange {@link #take}s it (admitted), or
 * {@link #drop}s it (refused, or a stage failed), which gives its buffer back — whether or not it has
 * come, and whether or not it was read early. Confined to the request's event loop, like the future's
 * listeners.
 */
final class AnswerAhead {

  /**
   * An answer read before the admission: the EPR's answer copied out (its buffer given back), and what
   * the inspection made of it — null when the inspection threw (the exchange inspects again, and fails).
   */
  record Early(EprAnswer answer, @Nullable Inspected seen) {}

  private final Future<UpstreamResult> answer;
  private @Nullable Early early;
  /** The answer's buffer was copied out and given back (by the early read). */
  private boolean copied;
  private boolean dropped;

  /**
   * @param inspect the inspect stage's work on an answer (no side effects)
   * @param inlineBytes answers larger than this are not inspected on the loop: they wait for the admission
   */
  AnswerAhead(Future<UpstreamResult> answer, Function<EprAnswer, Inspected> inspect, int inlineBytes) {
    this.answer = answer;
    // registered before any other listener, so it runs first whenever the answer comes
    answer.addListener(f -> {
      if (!dropped && f.getNow() instanceof UpstreamResult.Response r && r.body().readableBytes() <= inlineBytes) {
        EprAnswer a = EprAnswer.of(r);
        copied = true;
        Inspected seen = null;
        try {
          seen = inspect.apply(a);
        } catch (RuntimeException e) {
          // left to the inspect stage, which meets it again and ends the exchange as a crash
        }
        early = new Early(a, seen);
      }
    });
  }

  /** The answer, to hear once admitted; when it comes, {@link #take} says whether it was read early. */
  Future<UpstreamResult> future() {
    return answer;
  }

  /** The answer as read early (its buffer already given back), or null: read it from the future's result. */
  @Nullable Early take() {
    Early e = early;
    early = null;
    return e;
  }

  /** Nobody may see the answer: its buffer is given back when it comes (now, if it has come). */
  void drop() {
    dropped = true;
    early = null;
    answer.addListener(f -> {
      if (!copied && f.getNow() instanceof UpstreamResult.Response r) {
        r.body().release();
      }
    });
  }
}
