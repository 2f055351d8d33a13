package org.fhirwall.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * Bounds how long a client may take. A connection with no request under way is closed after the
 * idle timeout; a request must arrive whole (head and body) within the request timeout from its
 * first byte, or it gets 408 and the connection is closed — a slow client (slowloris) cannot hold
 * a connection by trickling bytes. While fhirwall works on a request, the upstream's timeout
 * applies instead. The exchange handler fires {@link #EXCHANGE_DONE} when its response is written.
 */
final class RequestDeadline extends ChannelDuplexHandler {
  /** User event: the response to the current request has been written. */
  static final Object EXCHANGE_DONE = new Object() {
    @Override
    public String toString() {
      return "EXCHANGE_DONE";
    }
  };

  /**
   * User event: a pipelined request held by the exchange handler starts now, and all of it has
   * arrived (its timeouts from here are the exchange's).
   */
  static final Object HELD_REQUEST = new Object() {
    @Override
    public String toString() {
      return "HELD_REQUEST";
    }
  };

  /** User event: bytes of a request arrived (fired by {@link FirstBytes}, before HTTP decoding). */
  static final Object REQUEST_BYTES = new Object() {
    @Override
    public String toString() {
      return "REQUEST_BYTES";
    }
  };

  /**
   * Sits before the HTTP decoder and tells the deadline that bytes arrived, so the request timeout
   * runs from a request's first byte, even while its head is still incomplete (slowloris).
   */
  static final class FirstBytes extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.pipeline().fireUserEventTriggered(REQUEST_BYTES);
      ctx.fireChannelRead(msg);
    }
  }

  private final long idleNanos;
  /** True from a request's first byte until its response is written. */
  private boolean inRequest;
  private final long requestNanos;
  private @Nullable ScheduledFuture<?> timer;

  RequestDeadline(Duration idle, Duration request) {
    this.idleNanos = idle.toNanos();
    this.requestNanos = request.toNanos();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    armIdle(ctx);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest) {
      requestStarted(ctx);
    }
    if (msg instanceof LastHttpContent) {
      cancel();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == EXCHANGE_DONE) {
      inRequest = false;
      armIdle(ctx);
      ctx.fireUserEventTriggered(evt); // the exchange handler starts a held request, or reads on
      return;
    }
    if (evt == HELD_REQUEST) {
      inRequest = true;
      cancel();
      return;
    }
    if (evt == REQUEST_BYTES) {
      requestStarted(ctx);
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private void requestStarted(ChannelHandlerContext ctx) {
    if (!inRequest) {
      inRequest = true;
      cancel();
      timer = ctx.executor().schedule(() -> tooSlow(ctx), requestNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void armIdle(ChannelHandlerContext ctx) {
    cancel();
    timer = ctx.executor().schedule(() -> {
      ctx.close();
    }, idleNanos, TimeUnit.NANOSECONDS);
  }

  private void tooSlow(ChannelHandlerContext ctx) {
    timer = null;
    Refusal r = new Refusal(408, IssueType.TIMEOUT,
        "Request not received in full within " + (requestNanos / 1_000_000) + " ms (limits.request-timeout)", Map.of(), true);
    Responses.refuse(ctx, r, "");
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }
}
