package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.fhirwall.respond.Refusals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the public port to {@code limits.max-connections} open connections. Counts each connection
 * as it becomes active and uncounts it when it closes; within the cap it steps out of the pipeline.
 * Over the cap it answers at once — 503, an OperationOutcome, {@code Retry-After: 1},
 * {@code Connection: close} — without reading a request (reading is switched off; behind TLS only
 * the handshake is read), drops anything that arrives anyway, and closes the connection once the
 * answer is written. The connection never reaches the handlers after it (deadlines, framing,
 * exchange). One instance per connection, on its event loop; the count is the shared
 * {@link OpenConnections}.
 */
final class ConnectionCap extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);

  private final OpenConnections connections;
  private boolean refused;

  ConnectionCap(OpenConnections connections) {
    this.connections = requireNonNull(connections, "connections");
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    OpenConnections.Admission admission = connections.open();
    ctx.channel().closeFuture().addListener(f -> {
      if (connections.closed()) {
        LOG.info("client connections under limits.max-connections ({}) again: new ones are served", connections.max());
      }
    });
    if (admission == OpenConnections.Admission.ADMITTED) {
      ctx.fireChannelActive();
      ctx.pipeline().remove(this);
      return;
    }
    refused = true;
    if (admission == OpenConnections.Admission.REFUSED_FIRST) {
      LOG.warn("limits.max-connections ({}) reached: new client connections get 503 until some close "
          + "(fhirwall_connections_refused_total counts them)", connections.max());
    }
    ctx.channel().config().setAutoRead(false);
    Responses.refuse(ctx, Refusals.tooManyConnections(connections.max()), "");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!refused) {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!refused) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    LOG.debug("refused client connection: {}", cause.toString());
    ctx.close();
  }
}
