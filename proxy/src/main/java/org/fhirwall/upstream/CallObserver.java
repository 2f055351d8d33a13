package org.fhirwall.upstream;

import io.netty.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Watches the calls to the EPR without touching Netty (tracing, in {@code admin}): sees each
 * request before it leaves, may send it with other headers, and hears its result.
 */
public interface CallObserver {

  /** A call about to leave: the request to send, and what to do with its result. */
  record Call(UpstreamRequest request, Consumer<UpstreamResult> ended) {}

  /** The call for this request (the request itself and a no-op to leave it unobserved). */
  Call begin(UpstreamRequest request);

  /** The EPR, with every call shown to the observer. */
  static Upstream observed(Upstream delegate, CallObserver observer) {
    return (loop, request) -> {
      Call call = observer.begin(request);
      Future<UpstreamResult> result = delegate.send(loop, call.request());
      result.addListener(f -> call.ended().accept((UpstreamResult) f.getNow()));
      return result;
    };
  }
}
