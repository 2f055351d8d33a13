package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.fhirwall.config.DeploymentConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Request-smuggling and malformed-framing shapes at the edge: each is answered 400 (or 413/414/431)
 * with an OperationOutcome, the connection is closed, and no request reaches the exchange (and so
 * nothing reaches the upstream). A chunked body that grows over the limit is refused by the
 * exchange's body reader ({@code ExchangeTest}).
 */
class RequestSmugglingTest {
  static final DeploymentConfig.Limits LIMITS =
      new DeploymentConfig.Limits(1024, 1 << 20, 1024, 4096, 20, Duration.ofSeconds(30), Duration.ofSeconds(60), 100,
          Duration.ofSeconds(20));

  /** Stands where the exchange handler sits and records every request that got through whole. */
  static final class Reached extends SimpleChannelInboundHandler<Object> {
    final List<String> requests = new ArrayList<>();
    private String head = "";

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof EdgeRefusal refusal) {
        refusal.write(ctx); // as the exchange handler does on a connection with nothing under way
        return;
      }
      super.channelRead(ctx, msg);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest r) {
        head = r.method() + " " + r.uri();
      }
      if (msg instanceof LastHttpContent) {
        requests.add(head);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
      // As the exchange handler does: a connection closed after a refusal mid-message is expected.
      if (!(cause instanceof io.netty.handler.codec.PrematureChannelClosureException)) {
        super.exceptionCaught(ctx, cause);
      }
    }
  }

  static Stream<Arguments> shapes() {
    String get = "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n";
    return Stream.of(
        Arguments.of("CL.TE", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /fhir/Patient HTTP/1.1\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("TE.CL", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
        Arguments.of("TE chunked, identity", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
        Arguments.of("TE identity, chunked", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 400),
        Arguments.of("TE xchunked", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
        Arguments.of("two TE headers", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        Arguments.of("two Content-Lengths, different", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabc", 400),
        Arguments.of("two Content-Lengths, same", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        Arguments.of("Content-Length list", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
        Arguments.of("bare LF in chunk size line", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400),
        Arguments.of("bare LF between headers", "GET /fhir/Patient/1 HTTP/1.1\nHost: proxy\n\n", 400),
        Arguments.of("space before colon", "GET /fhir/Patient/1 HTTP/1.1\r\nHost : proxy\r\n\r\n", 400),
        Arguments.of("no Host", "GET /fhir/Patient/1 HTTP/1.1\r\n\r\n", 400),
        Arguments.of("two Hosts", get + "Host: other\r\n\r\n", 400),
        // Adversarial sweep: a second Authorization header was ignored (the first one authenticated the request).
        Arguments.of("two Authorization headers", get + "Authorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\n\r\n", 400),
        Arguments.of("absolute-form target", "GET http://epr.internal/fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("garbage request line", "GARBAGE\r\n\r\n", 400),
        Arguments.of("declared body over the limit", "POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5000\r\n\r\n", 413),
        Arguments.of("request line over the limit", "GET /fhir/Patient?name=" + "a".repeat(2000) + " HTTP/1.1\r\nHost: proxy\r\n\r\n", 414),
        Arguments.of("headers over the limit", get + "X-Big: " + "b".repeat(5000) + "\r\n\r\n", 431),
        // README, limits.max-headers: "Most request headers (431 beyond)" (RFC 6585: Request Header Fields Too Large).
        Arguments.of("too many headers", get + "X-H: 1\r\n".repeat(30) + "\r\n", 431),
        // Adversarial sweep: request lines naming another HTTP version were decoded as HTTP/1.x (RFC 9110 §15.6.6: 505).
        Arguments.of("HTTP/1.2", "GET /fhir/Patient/1 HTTP/1.2\r\nHost: proxy\r\n\r\n", 505),
        Arguments.of("HTTP/2.0", "GET /fhir/Patient/1 HTTP/2.0\r\nHost: proxy\r\n\r\n", 505),
        Arguments.of("HTTP/0.9", "GET /fhir/Patient/1 HTTP/0.9\r\nHost: proxy\r\n\r\n", 505),
        Arguments.of("HTTP/1.10 (not a version)", "GET /fhir/Patient/1 HTTP/1.10\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("HTTPS/1.1 (not a version)", "GET /fhir/Patient/1 HTTPS/1.1\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("lower-case http/1.1", "GET /fhir/Patient/1 http/1.1\r\nHost: proxy\r\n\r\n", 400),
        Arguments.of("no version (HTTP/0.9 style)", "GET /fhir/Patient/1\r\n\r\n", 400),
        // Obsolete line folding (RFC 9112 §5.2): a server must refuse it or replace it; a front proxy that reads the
        // folded line as a header of its own (or not at all) sees another request than fhirwall.
        Arguments.of("folded header line (space)", get + "X-Note: a\r\n b\r\n\r\n", 400),
        Arguments.of("folded header line (tab)", get + "X-Note: a\r\n\tb\r\n\r\n", 400),
        Arguments.of("folded Transfer-Encoding", "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
        Arguments.of("folded Host", "GET /fhir/Patient/1 HTTP/1.1\r\nHost:\r\n proxy\r\n\r\n", 400),
        // Gap sweep: an expectation fhirwall does not support was ignored (RFC 9110 §10.1.1: 417 Expectation Failed).
        Arguments.of("Expect other than 100-continue", "POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\nExpect: 200-ok\r\n"
            + "Content-Length: 2\r\n\r\n{}", 417),
        Arguments.of("Expect 100-continue and another", "POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\n"
            + "Expect: 100-continue, x-fast\r\nContent-Length: 2\r\n\r\n{}", 417),
        Arguments.of("two Expect headers", "POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\nExpect: 100-continue\r\n"
            + "Expect: x-fast\r\nContent-Length: 2\r\n\r\n{}", 417),
        Arguments.of("Expect 100-continue with a parameter", "POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\n"
            + "Expect: 100-continue;wait=1\r\nContent-Length: 2\r\n\r\n{}", 417),
        Arguments.of("empty Expect", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\nExpect:\r\n\r\n", 417),
        Arguments.of("Expect on a GET, HTTP/1.0", "GET /fhir/Patient/1 HTTP/1.0\r\nHost: proxy\r\nExpect: x-fast\r\n\r\n", 417));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void malformedFramingIsRefusedClosedAndNeverForwarded(String name, String wire, int status) {
    Reached reached = new Reached();
    EmbeddedChannel ch = new EmbeddedChannel();
    FhirwallChannelInitializer.addHttpHandlers(ch.pipeline(), LIMITS);
    FhirwallChannelInitializer.addLimits(ch.pipeline(), LIMITS);
    ch.pipeline().addLast(reached);
    ch.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
    ch.runPendingTasks();

    FullHttpResponse response = decodeResponse(ch);
    try {
      assertThat(response.status().code()).as(name).isEqualTo(status);
      assertThat(response.headers().get("Content-Type")).startsWith("application/fhir+json");
      assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("\"resourceType\":\"OperationOutcome\"");
      assertThat(response.headers().get("Connection")).isEqualToIgnoringCase("close");
    } finally {
      response.release();
    }
    assertThat(ch.isOpen()).as("connection closed after " + name).isFalse();
    assertThat(reached.requests).as("nothing reached the exchange for " + name).isEmpty();
    ch.finishAndReleaseAll();
  }

  /**
   * Adversarial sweep: more requests in one read than the HTTP codec queues unanswered (its pipeline
   * depth) made the decoder throw; the connection was reset without an answer and every such
   * connection, without a token too, logged a warning with a stack trace. (Here nothing is under way; behind a
   * request under way the connection closes after its answer: {@code ExchangeTest}.)
   */
  @Test
  void morePipelinedRequestsThanTheCodecQueuesAreRefusedWithAnOperationOutcome() {
    Reached reached = new Reached();
    EmbeddedChannel ch = edge(reached);
    String get = "GET /fhir/metadata HTTP/1.1\r\nHost: proxy\r\n\r\n";
    ch.writeInbound(Unpooled.copiedBuffer(get.repeat(FhirwallChannelInitializer.MAX_PIPELINED + 12), StandardCharsets.ISO_8859_1));
    ch.runPendingTasks();

    FullHttpResponse response = decodeResponse(ch);
    try {
      assertThat(response.status().code()).isEqualTo(400);
      assertThat(response.headers().get("Content-Type")).startsWith("application/fhir+json");
      assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("\"resourceType\":\"OperationOutcome\"",
          "pipelined");
      assertThat(response.headers().get("Connection")).isEqualToIgnoringCase("close");
    } finally {
      response.release();
    }
    assertThat(ch.isOpen()).isFalse();
    assertThat(reached.requests).as("only what the codec queued").hasSizeLessThanOrEqualTo(FhirwallChannelInitializer.MAX_PIPELINED);
    ch.finishAndReleaseAll();
  }

  @Test
  void aHeadTrickledOneByteAtATimeGets408AtTheRequestTimeoutFromItsFirstByte() {
    // Slowloris: every byte comes well within the idle timeout, the head never ends. The request timeout runs
    // from the first byte (limits.request-timeout, 30 s here), however steadily bytes keep coming.
    Reached reached = new Reached();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.freezeTime();
    FhirwallChannelInitializer.addHttpHandlers(ch.pipeline(), LIMITS);
    FhirwallChannelInitializer.addLimits(ch.pipeline(), LIMITS);
    ch.pipeline().addLast(reached);
    String head = "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\nX-Slow: " + "s".repeat(100);
    int sent = 0;
    for (; sent < head.length() && ch.isOpen(); sent++) {
      ch.writeInbound(Unpooled.copiedBuffer(head.substring(sent, sent + 1), StandardCharsets.ISO_8859_1));
      ch.advanceTimeBy(1, java.util.concurrent.TimeUnit.SECONDS);
      ch.runScheduledPendingTasks();
    }
    assertThat(sent).as("bytes taken before the connection was closed, one a second").isEqualTo(30);
    FullHttpResponse response = decodeResponse(ch);
    try {
      assertThat(response.status().code()).isEqualTo(408);
      assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("\"resourceType\":\"OperationOutcome\"",
          "limits.request-timeout");
      assertThat(response.headers().get("Connection")).isEqualToIgnoringCase("close");
    } finally {
      response.release();
    }
    assertThat(reached.requests).isEmpty();
    ch.finishAndReleaseAll();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wellFormed")
  void wellFormedRequestsPassTheEdge(String name, String wire, int requests) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      Reached reached = new Reached();
      EmbeddedChannel ch = edge(reached);
      send(ch, wire, byteByByte);
      assertThat(reached.requests).as(name + (byteByByte ? ", a byte at a time" : "")).hasSize(requests);
      assertThat(ch.isOpen()).isTrue();
      assertThat((Object) ch.readOutbound()).as("nothing answered at the edge").isNull();
      ch.finishAndReleaseAll();
    }
  }

  static Stream<Arguments> wellFormed() {
    String post = "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    return Stream.of(
        Arguments.of("plain GET", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n\r\n", 1),
        Arguments.of("HTTP/1.0 GET", "GET /fhir/Patient/1 HTTP/1.0\r\nHost: proxy\r\n\r\n", 1),
        Arguments.of("POST with Content-Length", post + "Content-Length: 6\r\n\r\nname=a", 1),
        Arguments.of("chunked POST", post + "Transfer-Encoding: chunked\r\n\r\n6\r\nname=a\r\n0\r\n\r\n", 1),
        Arguments.of("Expect: 100-continue, any case", post + "Expect: 100-Continue\r\nContent-Length: 6\r\n\r\nname=a", 1),
        Arguments.of("empty lines before a request line (RFC 9112 §2.2)", "\r\n\r\nGET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n\r\n", 1),
        // bodies whose lines start with a space or tab are no folded header lines
        Arguments.of("body with indented lines", post + "Content-Length: 13\r\n\r\n{\r\n \"a\": 1\r\n}", 1),
        Arguments.of("chunked body with indented and empty lines", post + "Transfer-Encoding: chunked\r\n\r\n"
            + "f\r\n{\r\n\r\n \"a\":\r\n\t1}\r\n0\r\n\r\n", 1),
        Arguments.of("pipelined: GET, body with indented lines, chunked, GET",
            "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n\r\n"
            + post + "Content-Length: 9\r\n\r\na\r\n b\r\n\tc"
            + post + "Transfer-Encoding: chunked\r\n\r\n4\r\n\r\n x\r\n0\r\n\r\n"
            + "GET /fhir/Patient/2 HTTP/1.1\r\nHost: proxy\r\n\r\n", 4));
  }

  /** Folded header lines wherever the reads split the bytes, also after a request and its body on the same connection. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("foldedAfterARequest")
  void aFoldedHeaderLineIsRefusedWhereverItComes(String name, String first, String folded) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      Reached reached = new Reached();
      EmbeddedChannel ch = edge(reached);
      send(ch, first + folded, byteByByte);
      FullHttpResponse response = decodeResponse(ch);
      try {
        assertThat(response.status().code()).as(name).isEqualTo(400);
        assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("\"resourceType\":\"OperationOutcome\"",
            "line folding");
        assertThat(response.headers().get("Connection")).isEqualToIgnoringCase("close");
      } finally {
        response.release();
      }
      assertThat(ch.isOpen()).isFalse();
      assertThat(reached.requests).as(name + (byteByByte ? ", a byte at a time" : "")).hasSize(first.isEmpty() ? 0 : 1);
      ch.finishAndReleaseAll();
    }
  }

  static Stream<Arguments> foldedAfterARequest() {
    String post = "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    String folded = "GET /fhir/Patient/2 HTTP/1.1\r\nHost: proxy\r\nX-Note: a\r\n b\r\n\r\n";
    return Stream.of(
        Arguments.of("first request", "", folded),
        Arguments.of("whitespace before the first header line", "", "GET /fhir/Patient/2 HTTP/1.1\r\n Host: proxy\r\n\r\n"),
        Arguments.of("after a GET", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: proxy\r\n\r\n", folded),
        Arguments.of("after a body", post + "Content-Length: 6\r\n\r\nname=a", folded),
        Arguments.of("after a chunked body", post + "Transfer-Encoding: chunked\r\n\r\n6\r\nname=a\r\n0\r\n\r\n", folded),
        Arguments.of("after a chunked body with trailers", post + "Transfer-Encoding: chunked\r\n\r\n"
            + "6\r\nname=a\r\n0\r\nX-Trailer: t\r\n\r\n", folded));
  }

  private static EmbeddedChannel edge(Reached reached) {
    EmbeddedChannel ch = new EmbeddedChannel();
    FhirwallChannelInitializer.addHttpHandlers(ch.pipeline(), LIMITS);
    FhirwallChannelInitializer.addLimits(ch.pipeline(), LIMITS);
    ch.pipeline().addLast(reached);
    return ch;
  }

  private static void send(EmbeddedChannel ch, String wire, boolean byteByByte) {
    if (!byteByByte) {
      ch.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
      return;
    }
    for (int i = 0; i < wire.length() && ch.isOpen(); i++) {
      ch.writeInbound(Unpooled.copiedBuffer(wire.substring(i, i + 1), StandardCharsets.ISO_8859_1));
    }
  }

  private static FullHttpResponse decodeResponse(EmbeddedChannel server) {
    EmbeddedChannel client = new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(1 << 20));
    client.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpRequest(
        io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/"));
    for (Object o; (o = client.readOutbound()) != null; ) {
      io.netty.util.ReferenceCountUtil.release(o);
    }
    for (Object out; (out = server.readOutbound()) != null; ) {
      client.writeInbound((ByteBuf) out);
    }
    FullHttpResponse r = client.readInbound();
    assertThat(r).as("a response was written").isNotNull();
    client.finishAndReleaseAll();
    return r;
  }
}
