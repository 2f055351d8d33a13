package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import org.fhirwall.upstream.Upstream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts an {@link Exchange} for each request head, and hands the request's body pieces to it. The
 * body is not aggregated here: the exchange reads it only once the sender's token is verified.
 *
 * <p>One exchange at a time per connection: what the decoder produces after the request under way
 * (a pipelined request) is held, and reading paused, until that exchange's answer is written
 * ({@link RequestDeadline#EXCHANGE_DONE}); then the held request starts. So answers leave in order
 * and a client cannot queue work faster than it is served. A request the edge refused
 * ({@link EdgeRefusal}) takes its place in that order: its refusal is the last answer on the connection. A request with a body pauses reading at
 * once (its body is read on demand, after the token check); a request without one leaves reading
 * on, since clients seldom send more before they are answered — pausing and resuming for every
 * request would cost two {@code epoll_ctl} calls each.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeHandler.class);

  private final Stages stages;
  private final Upstream upstream;
  private final ProxySettings settings;
  private final int maxBody;
  private final InFlight inFlight;
  /** The body of the latest request started; null before the first. */
  private @Nullable RequestBody body;
  /** Whether an exchange runs on this connection (its answer not yet written). */
  private boolean busy;
  /** Whether starting the held requests is already scheduled. */
  private boolean draining;
  /** What arrived after the request under way, in order; started once that one is answered. */
  private final ArrayDeque<Object> held = new ArrayDeque<>(2);

  ExchangeHandler(Stages stages, Upstream upstream, ProxySettings settings, int maxBody, InFlight inFlight) {
    this.inFlight = requireNonNull(inFlight, "inFlight");
    this.stages = requireNonNull(stages, "stages");
    this.upstream = requireNonNull(upstream, "upstream");
    this.settings = requireNonNull(settings, "settings");
    this.maxBody = maxBody;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof EdgeRefusal refusal) {
      refused(ctx, refusal);
      return;
    }
    if (!held.isEmpty() || busy && !forCurrentBody(msg)) {
      held.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    accept(ctx, msg);
  }

  /**
   * A request the edge refused: answered at once when it is the request under way (its body broke) or the connection
   * has nothing under way; else after the answers before it, in its place (what was held of it goes: the refusal
   * answers it).
   */
  private void refused(ChannelHandlerContext ctx, EdgeRefusal refusal) {
    if (held.isEmpty() && (!busy || body != null && !body.complete())) {
      busy = true;
      refusal.write(ctx);
      return;
    }
    if (!held.isEmpty() && !(held.peekLast() instanceof LastHttpContent)) {
      Object dropped;
      do {
        dropped = held.pollLast();
        ReferenceCountUtil.release(dropped);
      } while (!(dropped instanceof HttpRequest) && !held.isEmpty());
    }
    held.add(refusal);
    ctx.channel().config().setAutoRead(false);
  }

  private boolean forCurrentBody(Object msg) {
    return msg instanceof HttpContent && !(msg instanceof HttpRequest) && body != null && !body.complete();
  }

  private void accept(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof EdgeRefusal refusal) {
      busy = true; // the last answer on this connection
      refusal.write(ctx);
      return;
    }
    if (msg instanceof HttpRequest head) {
      if (HttpUtil.isTransferEncodingChunked(head) || HttpUtil.getContentLength(head, 0L) > 0) {
        ctx.channel().config().setAutoRead(false);
      }
      busy = true;
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

  /**
   * The answer of the exchange under way was written and the connection stays open: start what
   * arrived meanwhile, then read on.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt != RequestDeadline.EXCHANGE_DONE) {
      ctx.fireUserEventTriggered(evt);
      return;
    }
    busy = false;
    if (held.isEmpty()) {
      if (body == null || body.complete()) {
        ctx.channel().config().setAutoRead(true);
      }
      return;
    }
    if (!draining) {
      // after the ending that wrote this answer has finished (its audit record comes first)
      draining = true;
      ctx.executor().execute(() -> startHeld(ctx));
    }
  }

  private void startHeld(ChannelHandlerContext ctx) {
    draining = false;
    while (!held.isEmpty() && !(busy && !forCurrentBody(held.peek()))) {
      Object next = held.poll();
      if (next instanceof HttpRequest) {
        ctx.pipeline().fireUserEventTriggered(heldWhole() ? RequestDeadline.HELD_REQUEST : RequestDeadline.REQUEST_BYTES);
      }
      accept(ctx, next);
    }
    if (held.isEmpty() && (body == null || body.complete())) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  /** Whether the rest of the request just taken from {@link #held} is held too (it arrived whole). */
  private boolean heldWhole() {
    for (Object o : held) {
      if (o instanceof HttpRequest) {
        return false;
      }
      if (o instanceof LastHttpContent) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseHeld();
  }

  private void releaseHeld() {
    for (Object o; (o = held.poll()) != null; ) {
      ReferenceCountUtil.release(o);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseHeld();
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
