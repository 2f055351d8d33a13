package org.fhirwall.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.ssl.SslContext;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link UpstreamClient}'s keep-alive connections to the EPR of one event loop, used by the
 * calls made on that loop: an idle connection is reused, a new one opened while fewer than
 * {@code max-connections-per-loop} are, and a call waits for one beyond that (refused as busy past
 * a bound). Only touched on that loop, so it needs no locks.
 */
final class LoopPool {
  // Logged under the client's name, as operators know it.
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
  private static final int MAX_WAITERS_PER_LOOP = 4096;
  private static final String SHUTTING_DOWN = "fhirwall is shutting down";

  private final UpstreamSettings settings;
  final EventLoop loop;
  final ArrayDeque<Channel> idle = new ArrayDeque<>();
  final ArrayDeque<UpstreamClient.Call> waiting = new ArrayDeque<>();
  final Bootstrap bootstrap;
  /** Every connection open (idle or serving a call). */
  private final Set<Channel> channels = new HashSet<>();
  int open;
  /** Set by {@link #closeAll}: calls made afterwards fail at once. */
  private boolean closed;

  LoopPool(EventLoop loop, UpstreamSettings settings, Class<? extends SocketChannel> channelType, ByteBufAllocator buffers,
      AtomicReference<@Nullable SslContext> ssl) {
    this.loop = loop;
    this.settings = settings;
    this.bootstrap = new Bootstrap()
        .group(loop)
        .channel(channelType)
        .option(ChannelOption.ALLOCATOR, buffers)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis()))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            SslContext context = ssl.get();
            if (context != null) {
              ch.pipeline().addLast(context.newHandler(ch.alloc(), settings.host(), settings.port()));
            }
            ch.pipeline().addLast(new HttpClientCodec(4096, 64 * 1024, 64 * 1024));
            ch.pipeline().addLast(new ResponseReader());
          }
        });
  }

  void acquire(UpstreamClient.Call call) {
    if (closed) {
      call.fail(UpstreamResult.Kind.UNREACHABLE, SHUTTING_DOWN);
      return;
    }
    while (!idle.isEmpty()) {
      Channel ch = idle.pollLast();
      if (ch.isActive()) {
        call.onConnection(ch, true);
        return;
      }
    }
    if (open < settings.maxConnectionsPerLoop()) {
      connect(call);
      return;
    }
    if (waiting.size() >= MAX_WAITERS_PER_LOOP) {
      call.fail(UpstreamResult.Kind.BUSY, "upstream connection pool exhausted");
      return;
    }
    waiting.add(call);
  }

  private void connect(UpstreamClient.Call call) {
    open++;
    bootstrap.connect(settings.host(), settings.port()).addListener(f -> {
      if (!f.isSuccess()) {
        open--;
        call.onConnectFailed(f.cause());
        serveWaiter();
        return;
      }
      Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
      channels.add(ch);
      ch.closeFuture().addListener(c -> {
        open--;
        channels.remove(ch);
        idle.remove(ch);
        serveWaiter();
      });
      if (closed) {
        // connected after closeAll: the call ends here, like those closeAll found
        call.fail(UpstreamResult.Kind.UNREACHABLE, SHUTTING_DOWN);
        ch.close();
        return;
      }
      call.onConnection(ch, false);
    });
  }

  void release(Channel ch, boolean reusable) {
    if (!reusable || !ch.isActive()) {
      ch.close();
      return;
    }
    UpstreamClient.Call next = waiting.poll();
    if (next != null) {
      next.onConnection(ch, true);
    } else {
      idle.addLast(ch);
    }
  }

  void forget(UpstreamClient.Call call) {
    waiting.remove(call);
  }

  private void serveWaiter() {
    if (!waiting.isEmpty() && open < settings.maxConnectionsPerLoop()) {
      connect(waiting.poll());
    }
  }

  /**
   * Closes every connection, idle or not: a call still under way (an answer nobody waits for any
   * more, or one past the shutdown grace) ends as a failure and gives its buffers back now, while
   * the loop runs, rather than with a loop that stops under it.
   */
  void closeAll() {
    closed = true;
    for (UpstreamClient.Call waiter : List.copyOf(waiting)) {
      waiter.fail(UpstreamResult.Kind.UNREACHABLE, SHUTTING_DOWN);
    }
    waiting.clear();
    for (Channel ch : List.copyOf(channels)) {
      UpstreamClient.Call call = ch.attr(UpstreamClient.CALL).get();
      if (call != null) {
        call.fail(UpstreamResult.Kind.UNREACHABLE, SHUTTING_DOWN);
      }
      ch.close();
    }
    idle.clear();
  }

  /** Calls waiting for a connection or being answered on one (for tests). */
  int underWay() {
    int serving = 0;
    for (Channel ch : channels) {
      if (ch.attr(UpstreamClient.CALL).get() != null) {
        serving++;
      }
    }
    return serving + waiting.size();
  }

  /** Bytes of answers read so far by the calls being answered (for tests). */
  long bytesUnderWay() {
    long bytes = 0;
    for (Channel ch : channels) {
      UpstreamClient.Call call = ch.attr(UpstreamClient.CALL).get();
      if (call != null) {
        bytes += call.bodyBytes;
      }
    }
    return bytes;
  }

  /** Feeds the decoded response of a pooled connection to the call using it. */
  private static final class ResponseReader extends SimpleChannelInboundHandler<HttpObject> {
    ResponseReader() {
      super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      UpstreamClient.Call call = ctx.channel().attr(UpstreamClient.CALL).get();
      try {
        if (call == null) {
          // Bytes nobody asked for: the connection cannot be trusted any more.
          ctx.close();
          return;
        }
        if (msg.decoderResult().isFailure()) {
          call.fail(UpstreamResult.Kind.PROTOCOL, "malformed upstream response: " + msg.decoderResult().cause().getMessage());
          return;
        }
        if (msg instanceof HttpResponse r) {
          if (r.status().code() == 100) {
            return;
          }
          call.onResponse(r);
        }
        if (msg instanceof HttpContent c) {
          call.onContent(c);
        }
      } finally {
        io.netty.util.ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      UpstreamClient.Call call = ctx.channel().attr(UpstreamClient.CALL).get();
      if (call != null) {
        call.connectionLost("closed by upstream");
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      UpstreamClient.Call call = ctx.channel().attr(UpstreamClient.CALL).get();
      LOG.debug("upstream connection error", cause);
      if (call != null) {
        call.connectionLost(cause.getClass().getSimpleName() + ": " + cause.getMessage());
      }
      ctx.close();
    }
  }
}
