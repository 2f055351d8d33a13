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

  private final long idleNanos;
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
      cancel();
      timer = ctx.executor().schedule(() -> tooSlow(ctx), requestNanos, TimeUnit.NANOSECONDS);
    }
    if (msg instanceof LastHttpContent) {
      cancel();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == EXCHANGE_DONE) {
      armIdle(ctx);
      return;
    }
    ctx.fireUserEventTriggered(evt);
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
    Responses.write(ctx, Responses.refusal(r, org.fhirwall.fhir.Format.JSON, null), false);
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
