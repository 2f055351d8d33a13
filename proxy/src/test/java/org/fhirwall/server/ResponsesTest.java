package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.inspect.UrlOccurrence;
import org.fhirwall.respond.Answer;
import org.fhirwall.respond.Body;
import org.fhirwall.respond.JsonSplicer;
import org.junit.jupiter.api.Test;

/**
 * How an answer's body becomes the response's buffer: a spliced body ({@link Body}) is written piece by
 * piece into a buffer of the channel's allocator, which the channel gives back whether the answer is
 * written or not (the build runs with paranoid leak detection; these tests also count the buffers
 * themselves), and a refused header value takes no buffer at all.
 */
class ResponsesTest {
  static final String JSON = "{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"self\",\"url\":\"http://epr/fhir/Patient\"}],"
      + "\"entry\":[{\"fullUrl\":\"http://epr/fhir/Patient/1\"}]}";

  /** Records every buffer it hands out. */
  static final class CountingAllocator extends AbstractByteBufAllocator {
    final List<ByteBuf> given = new ArrayList<>();

    CountingAllocator() {
      super(true);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
      given.add(b);
      return b;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
      given.add(b);
      return b;
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  static Body spliced() {
    byte[] json = JSON.getBytes(UTF_8);
    int self = JSON.indexOf("\"http://epr/fhir/Patient\"");
    int full = JSON.indexOf("\"http://epr/fhir/Patient/1\"");
    return JsonSplicer.spliced(json,
        List.of(new JsonSplicer.Replacement(new UrlOccurrence(self, self + 25, "http://epr/fhir/Patient", null),
            "https://fhirwall/fhir/Patient")),
        List.of(new JsonSplicer.Swap(full + 1, full + 16, "https://fhirwall/fhir".getBytes(UTF_8))), null);
  }

  static final String SHAPED = JSON.replace("http://epr/fhir", "https://fhirwall/fhir");

  static Answer answer(Body body, String headerValue) {
    return new Answer(200, List.of(Map.entry("Content-Type", "application/fhir+json"), Map.entry("X-Request-Id", headerValue)),
        body, false);
  }

  static EmbeddedChannel channel(CountingAllocator alloc) {
    EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseEncoder(), new ChannelInboundHandlerAdapter());
    ch.config().setAllocator(alloc);
    return ch;
  }

  @Test
  void theBuildWatchesForLeaks() {
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
  }

  @Test
  void aSplicedBodyIsWrittenPieceByPieceIntoOneBufferThatIsGivenBackOnceWritten() {
    CountingAllocator alloc = new CountingAllocator();
    EmbeddedChannel ch = channel(alloc);
    ChannelHandlerContext ctx = ch.pipeline().lastContext();
    Body body = spliced();
    assertThat(body.isSpliced()).isTrue();

    ChannelFuture done = Responses.write(ctx, answer(body, "r1"), true);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      wire.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    assertThat(done.isSuccess()).isTrue();
    String http = wire.toString(UTF_8);
    assertThat(http).startsWith("HTTP/1.1 200 OK\r\n").contains("content-length: " + SHAPED.getBytes(UTF_8).length + "\r\n")
        .endsWith("\r\n\r\n" + SHAPED);
    assertThat(alloc.given).as("the body's buffer came from the channel's allocator").isNotEmpty();
    assertThat(alloc.given).allSatisfy(b -> assertThat(b.refCnt()).as("given back").isZero());
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void aBufferIsGivenBackWhenTheChannelIsClosedBeforeTheAnswer() {
    CountingAllocator alloc = new CountingAllocator();
    EmbeddedChannel ch = channel(alloc);
    ChannelHandlerContext ctx = ch.pipeline().lastContext();
    ch.close();
    ChannelFuture done = Responses.write(ctx, answer(spliced(), "r2"), true);
    ch.runPendingTasks();
    assertThat(done.isSuccess()).isFalse();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ReferenceCountUtil.release(o);
    }
    assertThat(alloc.given).allSatisfy(b -> assertThat(b.refCnt()).as("given back").isZero());
  }

  @Test
  void aRefusedHeaderValueTakesNoBuffer() {
    CountingAllocator alloc = new CountingAllocator();
    EmbeddedChannel ch = channel(alloc);
    ChannelHandlerContext ctx = ch.pipeline().lastContext();
    assertThatThrownBy(() -> Responses.write(ctx, answer(spliced(), "r3\r\nX-Injected: 1"), true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(alloc.given).isEmpty();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void aBodyOfOneArrayIsWrappedAsItIsAndAnEmptyOneTakesNoBuffer() {
    CountingAllocator alloc = new CountingAllocator();
    byte[] json = JSON.getBytes(UTF_8);
    ByteBuf whole = Responses.content(alloc, Body.of(json));
    assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(json);
    assertThat(whole.hasArray() && whole.array() == json).as("not copied").isTrue();
    whole.release();
    assertThat(Responses.content(alloc, Body.EMPTY).readableBytes()).isZero();
    ByteBuf spliced = Responses.content(alloc, spliced());
    assertThat(spliced.toString(UTF_8)).isEqualTo(SHAPED);
    spliced.release();
    assertThat(alloc.given).hasSize(1).allSatisfy(b -> assertThat(b.refCnt()).isZero());
  }
}
