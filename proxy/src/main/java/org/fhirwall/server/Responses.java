package org.fhirwall.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Locale;
import java.util.Map;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.respond.Answer;
import org.fhirwall.respond.Body;
import org.fhirwall.respond.Refusals;
import org.jspecify.annotations.Nullable;

/** Writes {@link Answer}s (built by {@code respond}) to a Netty channel. */
final class Responses {

  /**
   * Header names of an answer are fhirwall's constants or came through Netty's decoder (the EPR's):
   * checked once already, so not again per header; values are still checked (no line breaks).
   */
  private static final DefaultHttpHeadersFactory ANSWER_HEADERS = DefaultHttpHeadersFactory.headersFactory().withNameValidation(false);

  private Responses() {}

  /**
   * Writes an answer; closes the connection after it when {@code keepAlive} is false. The
   * returned future completes when the answer is written (or failed).
   */
  static ChannelFuture write(ChannelHandlerContext ctx, Answer answer, boolean keepAlive) {
    Body body = answer.content();
    HttpHeaders h = ANSWER_HEADERS.newHeaders();
    for (Map.Entry<String, String> e : answer.headers()) {
      h.add(e.getKey(), e.getValue()); // may refuse a value: before any buffer is taken
    }
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length());
    boolean open = keepAlive && !answer.closeConnection();
    h.set(HttpHeaderNames.CONNECTION, open ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()),
        content(ctx.alloc(), body), h, DefaultHttpHeadersFactory.trailersFactory().newHeaders());
    ChannelFuture done = ctx.writeAndFlush(response); // the channel releases the response's buffer, written or not
    return open ? done : done.addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * The body as the response's buffer. A spliced body (see {@link Body}) is written piece by piece into
   * a pooled I/O buffer: the one copy the socket needs anyway (a heap buffer is copied into a direct one
   * before it is written), instead of a copy into an array of its own and then that one. Whoever gets
   * the buffer releases it.
   */
  static ByteBuf content(ByteBufAllocator alloc, Body body) {
    if (body.length() == 0) {
      return Unpooled.EMPTY_BUFFER;
    }
    if (!body.isSpliced()) {
      return Unpooled.wrappedBuffer(body.toArray());
    }
    ByteBuf buf = alloc.ioBuffer(body.length(), body.length());
    try {
      body.writeTo(buf::writeBytes);
      return buf;
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  /**
   * Writes the answer of an exchange: a write that a slow reader does not take within
   * {@code writeTimeout} closes the connection; after a kept-alive answer, the connection reads
   * the next request.
   */
  static void finish(ChannelHandlerContext ctx, Answer answer, boolean keepAlive, java.time.Duration writeTimeout) {
    boolean keepOpen = keepAlive && !answer.closeConnection();
    ChannelFuture done = write(ctx, answer, keepOpen);
    var deadline = ctx.executor().schedule(() -> {
      if (!done.isDone()) {
        ctx.close();
      }
    }, writeTimeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    done.addListener(f -> {
      deadline.cancel(false);
      if (keepOpen && f.isSuccess()) {
        ctx.channel().pipeline().fireUserEventTriggered(RequestDeadline.EXCHANGE_DONE);
      }
    });
  }

  /** A refusal at the edge, before any exchange (framing, deadlines): always closes the connection. */
  static ChannelFuture refuse(ChannelHandlerContext ctx, Refusal refusal, String uri) {
    return write(ctx, Refusals.answer(refusal, sniffFormat(uri, null), null), false);
  }

  /**
   * The format a refusal is written in when the request could not be parsed: XML only when the
   * raw request plainly asks for it, JSON otherwise.
   */
  static Format sniffFormat(String uri, @Nullable String accept) {
    String u = uri.toLowerCase(Locale.ROOT);
    int q = u.indexOf('?');
    if (q >= 0 && u.indexOf("_format=", q) >= 0) {
      String f = u.substring(u.indexOf("_format=", q) + 8);
      return f.startsWith("xml") || f.contains("fhir%2bxml") || f.contains("fhir+xml") || f.startsWith("text%2fxml")
          || f.startsWith("application%2fxml") ? Format.XML : Format.JSON;
    }
    if (accept != null) {
      String a = accept.toLowerCase(Locale.ROOT);
      if (a.contains("xml") && !a.contains("json")) {
        return Format.XML;
      }
    }
    return Format.JSON;
  }
}
