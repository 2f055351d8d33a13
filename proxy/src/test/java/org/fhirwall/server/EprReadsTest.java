package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.fhirwall.care.EprReader;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What fhirwall's own reads of the EPR (the care relationships' searches) send, and which links they follow. */
class EprReadsTest {
  private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<UpstreamRequest> sent = new CopyOnWriteArrayList<>();
  private final Upstream upstream = (loop, request) -> {
    sent.add(request);
    return loop.newSucceededFuture(new UpstreamResult.Response(200, new DefaultHttpHeaders(),
        Unpooled.copiedBuffer("{\"resourceType\":\"Bundle\"}", StandardCharsets.UTF_8)));
  };
  private final EprReads reads = new EprReads(upstream, loops, "http://epr.test/fhir/");

  @AfterEach
  void stop() {
    loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
  }

  @Test
  void everySearchAndEveryNextPageAsksForAFreshAnswerNotOneTheEprKeptFromAnEarlierAsk() throws Exception {
    EprReader.Answer first = reads.get("Encounter?participant=Practitioner/1&status=in-progress&_count=200")
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    reads.get("http://epr.test/fhir?_getpages=abc&_getpagesoffset=200&_count=200").toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("{\"resourceType\":\"Bundle\"}");
    assertThat(sent).extracting(UpstreamRequest::target)
        .containsExactly("Encounter?participant=Practitioner/1&status=in-progress&_count=200",
            "?_getpages=abc&_getpagesoffset=200&_count=200");
    for (UpstreamRequest r : sent) {
      assertThat(r.method()).isEqualTo("GET");
      assertThat(r.headers()).containsExactly(Map.entry("X-Request-Id", "fhirwall-care"),
          Map.entry("Cache-Control", "no-cache"));
    }
  }

  @Test
  void aLinkOutsideTheEprsBaseIsNotFollowed() {
    for (String link : List.of("http://elsewhere.test/fhir/Encounter?x=1", "http://epr.test/fhirx/Encounter",
        "/fhir/Encounter")) {
      assertThat(reads.get(link).toCompletableFuture()).as(link).failsWithin(5, TimeUnit.SECONDS)
          .withThrowableOfType(ExecutionException.class).withMessageContaining("outside the EPR's base");
    }
    assertThat(sent).isEmpty();
  }
}
