package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.fhirwall.upstream.Upstream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts an {@link Exchange} for each request head, and hands the request's body pieces to it. The
 * body is not aggregated here: the exchange reads it only once the sender's token is verified.
 * Reading is paused while an exchange runs, so pipelined requests are answered one at a time and
 * in order, and a client cannot queue work faster than it is served.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeHandler.class);

  private final Stages stages;
  private final Upstream upstream;
  private final ProxySettings settings;
  private final int maxBody;
  private final InFlight inFlight;
  /** The body of the request under way; null between requests. */
  private @Nullable RequestBody body;

  ExchangeHandler(Stages stages, Upstream upstream, ProxySettings settings, int maxBody, InFlight inFlight) {
    this.inFlight = requireNonNull(inFlight, "inFlight");
    this.stages = requireNonNull(stages, "stages");
    this.upstream = requireNonNull(upstream, "upstream");
    this.settings = requireNonNull(settings, "settings");
    this.maxBody = maxBody;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest head) {
      ctx.channel().config().setAutoRead(false);
      RequestBody current = new RequestBody(ctx, maxBody, HttpUtil.is100ContinueExpected(head));
      body = current;
      new Exchange(ctx, stages, upstream, settings, head, current).start(inFlight);
      if (msg instanceof HttpContent content) {
        current.offer(content);
      }
      return;
    }
    if (msg instanceof HttpContent content && body != null) {
      body.offer(content);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (body != null) {
      body.connectionLost();
      body = null;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException || cause instanceof io.netty.handler.codec.PrematureChannelClosureException) {
      // the client went away, or we closed a connection we had refused mid-message
      LOG.debug("client connection error: {}", cause.toString());
    } else {
      LOG.warn("client connection error", cause);
    }
    ctx.close();
  }
}
