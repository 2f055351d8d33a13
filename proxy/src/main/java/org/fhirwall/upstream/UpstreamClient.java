package org.fhirwall.upstream;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends requests to the EPR over keep-alive connections pooled per event loop ({@link LoopPool}).
 *
 * <p>A request is sent on the event loop of the client connection that asked for it, over a
 * connection owned by that loop: pools need no locks. Admission goes through the circuit
 * breaker's and the bulkhead's permission protocols (never a blocking decorator). Every call ends
 * in exactly one {@link UpstreamResult} on the calling loop; failures are results, not exceptions.
 * A request is sent again only when it is idempotent and the pooled connection it used was found
 * closed before any response byte arrived.
 */
public final class UpstreamClient implements Upstream, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamClient.class);
  static final AttributeKey<Call> CALL = AttributeKey.valueOf("fhirwall.upstream.call");

  private final UpstreamSettings settings;
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final Map<EventLoop, LoopPool> pools = new IdentityHashMap<>();
  /** TLS towards an https EPR; swapped whole when the certificates are reloaded. */
  private final AtomicReference<@Nullable SslContext> ssl;
  private final Class<? extends SocketChannel> channelType;

  /** @param buffers the allocator of the connections' buffers (the server's: see its {@code IoBuffers}) */
  public UpstreamClient(UpstreamSettings settings, EventLoopGroup group, Class<? extends SocketChannel> channelType,
      ByteBufAllocator buffers, CircuitBreaker breaker, Bulkhead bulkhead) {
    this.settings = requireNonNull(settings, "settings");
    this.breaker = requireNonNull(breaker, "breaker");
    this.bulkhead = requireNonNull(bulkhead, "bulkhead");
    this.channelType = requireNonNull(channelType, "channelType");
    requireNonNull(buffers, "buffers");
    this.ssl = new AtomicReference<>(sslContext(settings));
    group.forEach(e -> pools.put((EventLoop) e, new LoopPool((EventLoop) e, settings, channelType, buffers, ssl)));
  }

  /**
   * TLS towards the EPR: the hospital's CA when one is configured (else the JVM's trust store), and
   * fhirwall's client certificate when the EPR asks for one; null for an http EPR.
   */
  private static @Nullable SslContext sslContext(UpstreamSettings settings) {
    if (!settings.tls()) {
      return null;
    }
    try {
      SslContextBuilder b = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
      if (settings.trust() != null) {
        b.trustManager(settings.trust().toFile());
      }
      if (settings.clientCertificate() != null && settings.clientKey() != null) {
        b.keyManager(settings.clientCertificate().toFile(), settings.clientKey().toFile());
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot set up TLS to the upstream: " + e.getMessage(), e);
    }
  }

  /** Reads the EPR's CA and fhirwall's client certificate again; new connections use them (old ones finish). */
  public void reloadTls() {
    if (!settings.tls()) {
      return;
    }
    try {
      ssl.set(sslContext(settings));
      LOG.info("TLS towards the EPR reloaded");
    } catch (RuntimeException e) {
      LOG.error("TLS towards the EPR NOT reloaded, the one in force stays: {}", e.getMessage());
    }
  }

  public UpstreamSettings settings() {
    return settings;
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  /**
   * Sends {@code request}; must be called on {@code loop}, which must belong to the group this
   * client was built with. The future completes on {@code loop} and never fails.
   */
  @Override
  public Future<UpstreamResult> send(EventLoop loop, UpstreamRequest request) {
    Promise<UpstreamResult> promise = loop.newPromise();
    LoopPool pool = pools.get(loop);
    if (pool == null) {
      throw new IllegalArgumentException("event loop " + loop + " (expected: a loop of the client's group)");
    }
    if (!breaker.tryAcquirePermission()) {
      promise.setSuccess(new UpstreamResult.Failure(UpstreamResult.Kind.CIRCUIT_OPEN,
          "upstream circuit breaker open after repeated failures"));
      return promise;
    }
    if (!bulkhead.tryAcquirePermission()) {
      breaker.releasePermission();
      promise.setSuccess(new UpstreamResult.Failure(UpstreamResult.Kind.BUSY,
          "too many requests in flight to the upstream (upstream.max-concurrent)"));
      return promise;
    }
    Call call = new Call(pool, request, promise, System.nanoTime());
    call.start();
    return promise;
  }

  private FullHttpRequest toNetty(UpstreamRequest r) {
    String t = r.target();
    String uri = settings.basePath() + (t.isEmpty() || t.startsWith("?") ? "" : "/") + t;
    if (uri.isEmpty() || uri.charAt(0) == '?') {
      uri = "/" + uri;
    }
    ByteBuf body = r.body().length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body());
    FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(r.method()), uri, body);
    HttpHeaders h = req.headers();
    for (Map.Entry<String, String> e : r.headers()) {
      h.add(e.getKey(), e.getValue());
    }
    for (Map.Entry<String, String> e : settings.staticHeaders().entrySet()) {
      h.set(e.getKey(), e.getValue());
    }
    h.set(HttpHeaderNames.HOST, settings.authority());
    h.set(HttpHeaderNames.ACCEPT, "application/fhir+json");
    h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    if (r.body().length > 0 || !r.method().equals("GET") && !r.method().equals("DELETE")) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
    }
    return req;
  }

  /** One request's way to the EPR and back. Confined to its loop. */
  final class Call {
    final LoopPool pool;
    final UpstreamRequest request;
    final Promise<UpstreamResult> promise;
    final long started;
    @Nullable Channel channel;
    @Nullable ScheduledFuture<?> timeout;
    boolean reusedConnection;
    boolean responseStarted;
    boolean retried;
    boolean done;
    int status;
    @Nullable HttpHeaders headers;
    @Nullable CompositeByteBuf body;
    long bodyBytes;

    Call(LoopPool pool, UpstreamRequest request, Promise<UpstreamResult> promise, long started) {
      this.pool = pool;
      this.request = request;
      this.promise = promise;
      this.started = started;
    }

    void start() {
      timeout = pool.loop.schedule(() -> fail(UpstreamResult.Kind.TIMEOUT,
          "no complete upstream response within " + settings.responseTimeout().toMillis() + " ms"),
          settings.responseTimeout().toNanos(), TimeUnit.NANOSECONDS);
      pool.acquire(this);
    }

    /** Called by the pool with a connection for this call. */
    void onConnection(Channel ch, boolean reused) {
      if (done) {
        pool.release(ch, true);
        return;
      }
      channel = ch;
      reusedConnection = reused;
      ch.attr(CALL).set(this);
      ch.writeAndFlush(toNetty(request)).addListener(f -> {
        if (!f.isSuccess()) {
          connectionLost("write failed: " + f.cause().getMessage());
        }
      });
    }

    void onConnectFailed(Throwable cause) {
      fail(UpstreamResult.Kind.UNREACHABLE, "cannot connect to upstream " + settings.authority() + ": " + cause.getMessage());
    }

    void onResponse(HttpResponse r) {
      responseStarted = true;
      status = r.status().code();
      headers = r.headers();
      long declared = HttpUtil.getContentLength(r, -1L);
      if (declared > settings.maxResponseBody()) {
        fail(UpstreamResult.Kind.TOO_LARGE, "upstream response of " + declared + " bytes exceeds limits.max-response-body ("
            + settings.maxResponseBody() + ")");
        return;
      }
      body = channel != null ? channel.alloc().compositeBuffer(1024) : Unpooled.compositeBuffer(1024);
    }

    void onContent(HttpContent c) {
      if (done || body == null) {
        return;
      }
      ByteBuf chunk = c.content();
      bodyBytes += chunk.readableBytes();
      if (bodyBytes > settings.maxResponseBody()) {
        fail(UpstreamResult.Kind.TOO_LARGE, "upstream response exceeds limits.max-response-body (" + settings.maxResponseBody() + ")");
        return;
      }
      if (chunk.isReadable()) {
        body.addComponent(true, chunk.retain());
      }
      if (c instanceof LastHttpContent) {
        complete();
      }
    }

    void complete() {
      if (done) {
        return;
      }
      done = true;
      cancelTimeout();
      Channel ch = channel;
      channel = null;
      boolean reusable = ch != null && headers != null && !headers.contains(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
      if (ch != null) {
        ch.attr(CALL).set(null);
        pool.release(ch, reusable);
      }
      long elapsed = System.nanoTime() - started;
      if (status >= 500) {
        breaker.onError(elapsed, TimeUnit.NANOSECONDS, new UpstreamStatusException(status));
      } else {
        breaker.onSuccess(elapsed, TimeUnit.NANOSECONDS);
      }
      bulkhead.onComplete();
      CompositeByteBuf b = body;
      body = null;
      if (!promise.trySuccess(new UpstreamResult.Response(status, headers, b))) {
        b.release();
      }
    }

    /** The connection closed or broke before the response was complete. */
    void connectionLost(String why) {
      if (done) {
        return;
      }
      if (!responseStarted && reusedConnection && !retried && request.idempotent()) {
        // A keep-alive connection the EPR had already closed: nothing was processed, send it again.
        retried = true;
        Channel ch = channel;
        channel = null;
        if (ch != null) {
          ch.attr(CALL).set(null);
          pool.release(ch, false);
        }
        pool.acquire(this);
        return;
      }
      fail(UpstreamResult.Kind.PROTOCOL, "upstream connection lost: " + why);
    }

    void fail(UpstreamResult.Kind kind, String detail) {
      if (done) {
        return;
      }
      done = true;
      cancelTimeout();
      Channel ch = channel;
      channel = null;
      if (ch != null) {
        ch.attr(CALL).set(null);
        pool.release(ch, false);
      }
      pool.forget(this);
      if (body != null) {
        body.release();
        body = null;
      }
      long elapsed = System.nanoTime() - started;
      breaker.onError(elapsed, TimeUnit.NANOSECONDS, new UpstreamFailureException(kind, detail));
      bulkhead.onComplete();
      promise.trySuccess(new UpstreamResult.Failure(kind, detail));
    }

    private void cancelTimeout() {
      if (timeout != null) {
        timeout.cancel(false);
        timeout = null;
      }
    }
  }

  /** Recorded by the breaker for a 5xx answer. */
  static final class UpstreamStatusException extends Exception {
    private static final long serialVersionUID = 1L;

    UpstreamStatusException(int status) {
      super("upstream answered " + status, null, false, false);
    }
  }

  /** Recorded by the breaker for a failed call. */
  static final class UpstreamFailureException extends Exception {
    private static final long serialVersionUID = 1L;

    UpstreamFailureException(UpstreamResult.Kind kind, String detail) {
      super(kind + ": " + detail, null, false, false);
    }
  }

  /**
   * Closes every connection to the EPR; a call still under way ends as a failure (its buffers given
   * back) on its loop before this returns. Called before the loops stop; later calls fail at once.
   */
  @Override
  public void close() {
    List<io.netty.util.concurrent.Future<?>> closing = new ArrayList<>();
    for (LoopPool p : pools.values()) {
      if (p.loop.inEventLoop()) {
        p.closeAll();
      } else if (!p.loop.isShuttingDown()) {
        closing.add(p.loop.submit(p::closeAll));
      }
    }
    // each loop ends its calls before it is asked to stop (the server stops the loops next)
    closing.forEach(f -> f.awaitUninterruptibly(5, TimeUnit.SECONDS));
  }

  /** The pool of {@code loop} (for tests). */
  LoopPool pool(EventLoop loop) {
    return pools.get(loop);
  }
}
