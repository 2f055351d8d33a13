package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.IOException;
import org.fhirwall.upstream.UpstreamClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts an {@link Exchange} for each whole request. Reading is paused while an exchange runs, so
 * pipelined requests are answered one at a time and in order, and a client cannot queue work
 * faster than it is served.
 */
final class ExchangeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeHandler.class);

  private final Stages stages;
  private final UpstreamClient upstream;
  private final ProxySettings settings;
  private final LinkRewriter links;

  ExchangeHandler(Stages stages, UpstreamClient upstream, ProxySettings settings, LinkRewriter links) {
    this.stages = requireNonNull(stages, "stages");
    this.upstream = requireNonNull(upstream, "upstream");
    this.settings = requireNonNull(settings, "settings");
    this.links = requireNonNull(links, "links");
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    ctx.channel().config().setAutoRead(false);
    new Exchange(ctx, stages, upstream, settings, links, request).run();
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
