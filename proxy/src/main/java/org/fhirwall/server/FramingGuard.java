package org.fhirwall.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * Refuses, at the edge and before a body is read, every request whose framing cannot be trusted:
 * a malformed request line or header, a {@code Content-Length} together with
 * {@code Transfer-Encoding}, more than one {@code Content-Length}, a transfer coding other than
 * exactly {@code chunked}, no or several {@code Host} headers, several {@code Authorization}
 * headers, a request-target that is not in origin form (400), an HTTP version other than 1.1 and
 * 1.0 (505), too many headers (431), an {@code Expect} other than {@code 100-continue} (417), a
 * declared body over the limit (413) and more requests in one
 * read than the codec may hold unanswered ({@link FhirwallChannelInitializer#MAX_PIPELINED}, 400).
 * Each is answered with an OperationOutcome and the
 * connection is closed, so nothing after it on the connection is read as a request (request
 * smuggling) and nothing reaches the EPR. The refusal goes on as an {@link EdgeRefusal}: the exchange
 * handler writes it after the answers of the requests before it on the connection.
 *
 * <p>Sits after the HTTP decoder and before the aggregator. After a refusal it drops everything
 * else the connection sends.
 */
final class FramingGuard extends ChannelInboundHandlerAdapter {
  private final int maxHeaders;
  private final long maxBody;
  private boolean refused;

  FramingGuard(int maxHeaders, long maxBody) {
    this.maxHeaders = maxHeaders;
    this.maxBody = maxBody;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      Throwable cause = o.decoderResult().cause();
      ReferenceCountUtil.release(msg);
      if (cause instanceof TooLongHttpLineException) {
        refuse(ctx, new Refusal(414, IssueType.TOO_LONG, "Request line too long (limits.max-initial-line)", Map.of(), true), "");
      } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
        refuse(ctx, new Refusal(431, IssueType.TOO_LONG, "Request headers too large (limits.max-header-size)", Map.of(), true), "");
      } else {
        refuse(ctx, Refusal.badFraming("Malformed HTTP request: " + safe(cause.getMessage())), "");
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      Refusal version = version(req.protocolVersion());
      if (version != null) {
        ReferenceCountUtil.release(msg);
        refuse(ctx, version, req.uri());
        return;
      }
      if (req.headers().size() > maxHeaders) {
        ReferenceCountUtil.release(msg);
        refuse(ctx, new Refusal(431, IssueType.TOO_LONG, "Too many headers: " + req.headers().size()
            + " (limits.max-headers: at most " + maxHeaders + ")", Map.of(), true), req.uri());
        return;
      }
      String problem = check(req);
      if (problem != null) {
        ReferenceCountUtil.release(msg);
        refuse(ctx, Refusal.badFraming(problem), req.uri());
        return;
      }
      Refusal expectation = expectation(req.headers());
      if (expectation != null) {
        ReferenceCountUtil.release(msg);
        refuse(ctx, expectation, req.uri());
        return;
      }
      long declared = HttpUtil.getContentLength(req, -1L);
      if (declared > maxBody) {
        ReferenceCountUtil.release(msg);
        refuse(ctx, new Refusal(413, IssueType.TOO_LONG, "Request body of " + declared
            + " bytes exceeds limits.max-request-body (" + maxBody + ")", Map.of(), true), req.uri());
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * The HTTP codec throws when a read brings more pipelined requests than it holds unanswered
   * (and drops the rest of the connection's bytes): answered here like any framing refusal, so the
   * client learns why and the exchange handler does not log the client's doing as a server fault.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException && cause.getCause() instanceof IllegalStateException overflow
        && String.valueOf(overflow.getMessage()).startsWith("maxPipelineDepth exceeded")) {
      if (!refused) {
        refuse(ctx, Refusal.badFraming("More than " + FhirwallChannelInitializer.MAX_PIPELINED
            + " requests pipelined on one connection before their answers (send fewer at once)"), "");
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  /**
   * The refusal of a request line's HTTP version, or null for HTTP/1.1 and HTTP/1.0. Netty's
   * decoder takes any {@code NAME/major.minor}, upper-casing it; only its two constants are the
   * versions as sent. Another version is 505; {@code http/1.1} and the like are malformed (400).
   */
  static @Nullable Refusal version(HttpVersion v) {
    if (v == HttpVersion.HTTP_1_1 || v == HttpVersion.HTTP_1_0) {
      return null;
    }
    if (v.equals(HttpVersion.HTTP_1_1) || v.equals(HttpVersion.HTTP_1_0)) {
      return Refusal.badFraming("Malformed HTTP version (expected: HTTP/1.1 or HTTP/1.0, upper case)");
    }
    return new Refusal(505, IssueType.NOT_SUPPORTED, "HTTP version " + abbreviate(v.text())
        + " is not supported (expected: HTTP/1.1 or HTTP/1.0)", Map.of(), true);
  }

  /**
   * The refusal of an expectation fhirwall does not meet, or null: {@code Expect} may only be
   * {@code 100-continue} (any case), once. Anything else — another expectation, a list, a parameter,
   * an empty value, a second header — is 417 Expectation Failed (RFC 9110 §10.1.1), whatever the
   * HTTP version, before a body is read: an expectation ignored is a request handled otherwise than
   * its client asked, and the EPR never hears of it.
   */
  static @Nullable Refusal expectation(HttpHeaders h) {
    List<String> expect = h.getAll(HttpHeaderNames.EXPECT);
    if (expect.isEmpty() || expect.size() == 1 && expect.get(0).strip().equalsIgnoreCase("100-continue")) {
      return null;
    }
    return new Refusal(417, IssueType.NOT_SUPPORTED, "Expect " + abbreviate(String.join(", ", expect))
        + " is not supported (expected: no Expect, or exactly 100-continue)", Map.of(), true);
  }

  /** The framing problem of this request head, or null when it is sound. */
  String check(HttpRequest req) {
    HttpHeaders h = req.headers();
    String uri = req.uri();
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      return "Request-target " + abbreviate(uri) + " is not in origin form (expected: a path starting with /)";
    }
    List<String> hosts = h.getAll(HttpHeaderNames.HOST);
    if (hosts.size() != 1) {
      return "Expected exactly one Host header, got " + hosts.size();
    }
    if (h.getAll(HttpHeaderNames.AUTHORIZATION).size() > 1) {
      // Not a list field (RFC 9110 §11.6.2): which one counts would differ between fhirwall (the first) and
      // whatever else reads the request (a WAF, a log, a front proxy that checks the last one).
      return "More than one Authorization header";
    }
    List<String> lengths = h.getAll(HttpHeaderNames.CONTENT_LENGTH);
    List<String> codings = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (lengths.size() > 1) {
      return "More than one Content-Length header";
    }
    if (!lengths.isEmpty() && lengths.get(0).indexOf(',') >= 0) {
      return "Content-Length with several values";
    }
    if (!codings.isEmpty()) {
      if (!lengths.isEmpty()) {
        return "Both Content-Length and Transfer-Encoding present";
      }
      if (codings.size() != 1 || !codings.get(0).trim().toLowerCase(Locale.ROOT).equals("chunked")) {
        return "Transfer-Encoding " + abbreviate(String.join(", ", codings)) + " (expected: exactly chunked)";
      }
    }
    return null;
  }

  /** Hands the refusal on, in the connection's order ({@link EdgeRefusal}); drops everything after it. */
  private void refuse(ChannelHandlerContext ctx, Refusal refusal, String uri) {
    refused = true;
    ctx.fireChannelRead(new EdgeRefusal(refusal, uri));
  }

  private static String abbreviate(String s) {
    String clean = safe(s);
    return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
  }

  private static String safe(@org.jspecify.annotations.Nullable String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && b.length() < 200; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return b.toString();
  }
}
