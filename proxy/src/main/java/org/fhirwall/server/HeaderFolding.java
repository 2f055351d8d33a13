package org.fhirwall.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Refuses obsolete line folding (RFC 9112 §5.2): a request head whose line starts with a space or
 * a tab. Netty's decoder joins such a line to the header before it, which the RFC allows; but a
 * front proxy that reads it otherwise (as a header of its own, or as garbage) sees another request
 * than fhirwall, so fhirwall refuses it (400, connection closed) like any framing it cannot trust.
 *
 * <p>Sits before the HTTP decoder and looks at the first bytes of each line of a request head: it
 * hands the decoder a head up to its empty line, and learns from {@link Watch}, right after the
 * decoder, how the body that follows is framed. It then hands on a {@code Content-Length} body in one
 * piece, and a chunked one in pieces that end at each empty line (where its last chunk and
 * trailers may end), so that the next head on the connection is read from its first byte. A
 * folded line is handed on as a request the decoder failed to read, which {@link FramingGuard}
 * refuses. Whatever this scanner cannot follow (a decoder failure, a body it did not expect to
 * end) stops the scanning for the connection, which is then being refused anyway, or left to
 * Netty's reading. Confined to the channel's event loop; holds no buffer between reads.
 */
final class HeaderFolding extends ChannelInboundHandlerAdapter {
  private enum Mode { HEAD, LENGTH, CHUNKED, REFUSED, OFF }

  private final Watch watch = new Watch();
  private Mode mode = Mode.HEAD;
  /** The body bytes still to come in {@link Mode#LENGTH}. */
  private long remaining;
  /** In {@link Mode#HEAD}: before the request line (empty lines and white space are skipped there, as the decoder does). */
  private boolean leading = true;
  /** The next byte starts a line. */
  private boolean lineStart;
  /** A line started with a carriage return: a line feed next makes it an empty line. */
  private boolean emptyLine;
  /** Set by {@link #cut} when it stops at a folded line. */
  private boolean folded;
  /** Set by {@link #cut} when the piece it found ends a head, a body, or an empty line in a chunked body. */
  private boolean boundary;

  /** The handler to place right after the HTTP decoder. */
  Watch watch() {
    return watch;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in) || mode == Mode.OFF) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (mode == Mode.REFUSED) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int from = in.readerIndex();
    int end = in.writerIndex();
    boolean handedOn = false;
    try {
      while (from < end && mode != Mode.OFF) {
        if (watch.failed) {
          mode = Mode.OFF;
          break;
        }
        boundary = false;
        int cut = cut(in, from, end);
        if (folded) {
          refuse(ctx, in, from, cut);
          return;
        }
        handedOn = handOn(ctx, in, from, cut);
        from = cut;
        if (boundary) {
          next();
        }
      }
      if (from < end) {
        handedOn = handOn(ctx, in, from, end);
      }
    } finally {
      if (!handedOn) {
        in.release();
      }
    }
  }

  /** Hands bytes {@code from..to} of {@code in} to the decoder; true when that was all of {@code in} (now the decoder's). */
  private static boolean handOn(ChannelHandlerContext ctx, ByteBuf in, int from, int to) {
    if (from == in.readerIndex() && to == in.writerIndex()) {
      ctx.fireChannelRead(in);
      return true;
    }
    ctx.fireChannelRead(in.retainedSlice(from, to - from));
    return false;
  }

  /**
   * Where the piece starting at {@code from} ends (exclusive): after a head, or an empty line in a
   * chunked body, or a {@code Content-Length} body ({@link #boundary} set); at a folded line
   * ({@link #folded} set); or at {@code end}. Looks at the first bytes of each line only.
   */
  private int cut(ByteBuf in, int from, int end) {
    if (mode == Mode.LENGTH) {
      int n = (int) Math.min(remaining, end - from);
      remaining -= n;
      boundary = remaining == 0;
      return from + n;
    }
    int i = from;
    while (i < end) {
      byte b = in.getByte(i);
      if (leading) {
        if (b <= ' ' || b == 0x7f) {
          i++;
          continue;
        }
        leading = false;
      }
      if (emptyLine) {
        emptyLine = false;
        if (b == '\n') {
          boundary = true;
          return i + 1;
        }
      } else if (lineStart) {
        lineStart = false;
        if (mode == Mode.HEAD && (b == ' ' || b == '\t')) {
          folded = true;
          return i;
        }
        if (b == '\r') {
          emptyLine = true;
          i++;
          continue;
        }
      }
      int lf = in.indexOf(i, end, (byte) '\n');
      if (lf < 0) {
        return end;
      }
      lineStart = true;
      i = lf + 1;
    }
    return end;
  }

  /** A head, a body or an empty line in a chunked body was handed on: what comes next, as the decoder read it. */
  private void next() {
    if (watch.failed) {
      mode = Mode.OFF;
      return;
    }
    switch (mode) {
      case HEAD -> {
        if (watch.complete) {
          startHead();
        } else if (!watch.headSeen) {
          mode = Mode.OFF;
        } else if (watch.chunked) {
          mode = Mode.CHUNKED;
          lineStart = false;
          emptyLine = false;
        } else if (watch.length > 0) {
          mode = Mode.LENGTH;
          remaining = watch.length;
        } else {
          mode = Mode.OFF;
        }
      }
      case LENGTH -> {
        if (watch.complete) {
          startHead();
        } else {
          mode = Mode.OFF;
        }
      }
      case CHUNKED -> {
        if (watch.complete) {
          startHead();
        }
      }
      case REFUSED, OFF -> {
      }
    }
  }

  private void startHead() {
    mode = Mode.HEAD;
    watch.reset();
    leading = true;
    lineStart = false;
    emptyLine = false;
  }

  /**
   * Hands on what came before the folded line (so far the decoder read nothing wrong), then a
   * request the decoder failed to read: {@link FramingGuard} refuses it and closes the connection.
   */
  private void refuse(ChannelHandlerContext ctx, ByteBuf in, int from, int at) {
    mode = Mode.REFUSED;
    if (at > from) {
      ctx.fireChannelRead(in.retainedSlice(from, at - from));
    }
    HttpRequest bad = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
    bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
        "a header line starts with a space or a tab (obsolete line folding, RFC 9112 section 5.2)")));
    ctx.fireChannelRead(bad);
  }

  /**
   * Right after the HTTP decoder: what it made of the bytes handed on since the head began.
   * Passes everything on unchanged.
   */
  static final class Watch extends ChannelInboundHandlerAdapter {
    private boolean headSeen;
    private boolean complete;
    private boolean chunked;
    private long length;
    private boolean failed;

    private void reset() {
      headSeen = false;
      complete = false;
      chunked = false;
      length = 0;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
        failed = true;
      } else if (msg instanceof HttpRequest head) {
        headSeen = true;
        chunked = HttpUtil.isTransferEncodingChunked(head);
        try {
          length = HttpUtil.getContentLength(head, 0L);
        } catch (NumberFormatException e) {
          failed = true;
        }
      }
      if (msg instanceof LastHttpContent) {
        complete = true;
      }
      ctx.fireChannelRead(msg);
    }
  }
}
