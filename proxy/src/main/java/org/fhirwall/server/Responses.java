package org.fhirwall.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Locale;
import java.util.Map;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.OperationOutcomes;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * The one place that turns outcomes into HTTP responses: refusals become OperationOutcomes with
 * their status and headers; every response carries the headers patient data needs
 * ({@code Cache-Control: no-store}, {@code X-Content-Type-Options: nosniff}).
 */
final class Responses {

  private Responses() {}

  static FullHttpResponse refusal(Refusal refusal, Format format, @Nullable String requestId) {
    byte[] body = OperationOutcomes.render(refusal, format);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(refusal.status()), Unpooled.wrappedBuffer(body));
    HttpHeaders h = r.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, format.contentType());
    for (Map.Entry<String, String> e : refusal.headers().entrySet()) {
      h.set(e.getKey(), e.getValue());
    }
    standardHeaders(h, body.length, requestId);
    return r;
  }

  static void standardHeaders(HttpHeaders h, int contentLength, @Nullable String requestId) {
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, contentLength);
    h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    h.set("X-Content-Type-Options", "nosniff");
    if (requestId != null) {
      h.set("X-Request-Id", requestId);
    }
  }

  /**
   * Writes a response; closes the connection after it when {@code keepAlive} is false. The
   * returned future completes when the response is written (or failed).
   */
  static ChannelFuture write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      return ctx.writeAndFlush(response);
    }
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
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
