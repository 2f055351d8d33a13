package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.care.EprReader;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;

/**
 * fhirwall's own reads of the EPR (the care relationships' searches): a GET through the same
 * pooled client, breaker and bulkhead as clients' requests, on one of the worker loops, with
 * fhirwall's credentials only ({@code upstream.headers}; no client header is ever copied). A
 * target is relative to the EPR's base, or an absolute link under it (a search's {@code next}
 * page); a link anywhere else is refused, never followed. Every read says
 * {@code Cache-Control: no-cache}: an EPR may answer a search it has been asked in the last
 * moments with the matches it kept then (HAPI FHIR's JPA server does, for 60 s by default), which
 * hides a relationship written since from every principal whose relationships are learned
 * meanwhile. The body is copied off the buffer, which is released here. Thread-safe.
 */
final class EprReads implements EprReader {
  /** Fresh answers only, never a search result the EPR (or a cache before it) kept from an earlier ask. */
  static final List<Map.Entry<String, String>> HEADERS = List.of(Map.entry("X-Request-Id", "fhirwall-care"),
      Map.entry("Cache-Control", "no-cache"));

  private final Upstream upstream;
  private final EventLoopGroup loops;
  private final String base;

  EprReads(Upstream upstream, EventLoopGroup loops, String baseUrl) {
    this.upstream = requireNonNull(upstream, "upstream");
    this.loops = requireNonNull(loops, "loops");
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  @Override
  public CompletionStage<Answer> get(String target) {
    String relative;
    if (target.startsWith(base + "/")) {
      relative = target.substring(base.length() + 1);
    } else if (target.startsWith(base + "?")) {
      relative = target.substring(base.length());
    } else if (target.contains("://") || target.startsWith("/")) {
      return CompletableFuture.failedFuture(new IOException("a link outside the EPR's base is not followed"));
    } else {
      relative = target;
    }
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    EventLoop loop = loops.next();
    UpstreamRequest request = new UpstreamRequest("GET", relative, HEADERS, new byte[0]);
    loop.execute(() -> upstream.send(loop, request).addListener(f -> {
      UpstreamResult r = (UpstreamResult) f.getNow();
      if (r instanceof UpstreamResult.Response response) {
        try {
          answer.complete(new Answer(response.status(), ByteBufUtil.getBytes(response.body())));
        } finally {
          response.body().release();
        }
      } else if (r instanceof UpstreamResult.Failure failure) {
        answer.completeExceptionally(new IOException("EPR " + failure.kind() + ": " + failure.detail()));
      } else {
        answer.completeExceptionally(new IOException("no answer from the EPR", f.cause()));
      }
    }));
    return answer;
  }
}
