package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLException;
import org.fhirwall.admin.AdminApi;
import org.fhirwall.admin.Readiness;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamClient;
import org.fhirwall.upstream.UpstreamSettings;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: the public port (the stages of {@link Exchange}), the admin port
 * ({@link AdminApi}), and the upstream client, all on one set of event loops (epoll where
 * available). {@link #close()} stops accepting, lets in-flight exchanges finish briefly, and
 * releases every thread.
 */
public final class FhirwallServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FhirwallServer.class);

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final UpstreamClient upstream;
  private final QuotaStore store;
  private final Channel publicChannel;
  private final @Nullable Channel adminChannel;
  private final InFlight inFlight;
  private final DeploymentConfig config;
  private final AtomicReference<@Nullable SslContext> tls;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();

  private FhirwallServer(EventLoopGroup boss, EventLoopGroup workers, UpstreamClient upstream, QuotaStore store,
      Channel publicChannel, @Nullable Channel adminChannel, InFlight inFlight, DeploymentConfig config, AtomicReference<@Nullable SslContext> tls) {
    this.boss = boss;
    this.workers = workers;
    this.upstream = upstream;
    this.store = store;
    this.publicChannel = publicChannel;
    this.adminChannel = adminChannel;
    this.inFlight = inFlight;
    this.config = config;
    this.tls = tls;
  }

  /**
   * Binds the public and admin ports and returns once both listen.
   *
   * @param workerThreads event loops for client and upstream connections (0: one per core)
   * @param eprCalls what wraps the EPR's client (tracing), or the identity
   */
  public static FhirwallServer start(DeploymentConfig config, Stages stages, @Nullable AdminApi admin, Readiness readiness,
      MeterRegistry metrics, int workerThreads, UnaryOperator<Upstream> eprCalls)
      throws InterruptedException {
    requireNonNull(config, "config");
    requireNonNull(stages, "stages");
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    Class<? extends SocketChannel> clientType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    int threads = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, io);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, io);
    try {
      stages.quota().store().serveOn(LettuceLoops.of(workers));
      DeploymentConfig.Upstream u = config.upstream();
      UpstreamSettings upstreamSettings = config.upstreamSettings();
      var breakers = CircuitBreakerRegistry.ofDefaults();
      var bulkheads = BulkheadRegistry.ofDefaults();
      CircuitBreaker breaker = breakers.circuitBreaker("upstream", breakerConfig(u));
      Bulkhead bulkhead = bulkheads.bulkhead("upstream", bulkheadConfig(u));
      TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(metrics);
      TaggedBulkheadMetrics.ofBulkheadRegistry(bulkheads).bindTo(metrics);
      observe(breaker, metrics);
      ByteBufAllocator buffers = IoBuffers.allocator();
      observe(buffers, metrics);
      UpstreamClient upstream = new UpstreamClient(upstreamSettings, workers, clientType, buffers, breaker, bulkhead);
      readiness.check("epr", () -> upstream.breaker().getState() == CircuitBreaker.State.OPEN
          ? "the EPR's circuit breaker is open after repeated failures (requests get 503)" : null);

      String publicBase = stripSlash(config.publicBaseUrl().toString());
      ProxySettings settings = new ProxySettings(publicBase, upstreamSettings.baseUrlString(), config.breakGlassHeader(),
          config.limits().requestTimeout(), 256 * 1024);
      AtomicReference<@Nullable SslContext> tls = new AtomicReference<>(tls(config.tls()));
      InFlight inFlight = new InFlight();
      OpenConnections connections = new OpenConnections(config.limits().maxConnections());
      observe(connections, metrics);
      readiness.check("accepting", () -> inFlight.draining() ? "shutting down: finishing the requests under way" : null);

      Channel publicChannel = new ServerBootstrap()
          .group(boss, workers)
          .channel(serverType)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.ALLOCATOR, buffers)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.SO_KEEPALIVE, true)
          .childHandler(new FhirwallChannelInitializer(tls::get, config.limits(), stages, inFlight, connections,
              eprCalls.apply(upstream), settings))
          .bind(config.listen().host(), config.listen().port())
          .sync()
          .channel();

      Channel adminChannel = null;
      if (admin != null && config.admin() != null) {
        adminChannel = new ServerBootstrap()
            .group(boss, workers)
            .channel(serverType)
            .childHandler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192));
                ch.pipeline().addLast(new HttpObjectAggregator(64 * 1024));
                ch.pipeline().addLast(new AdminHandler(admin));
              }
            })
            .bind(config.admin().listen().host(), config.admin().listen().port())
            .sync()
            .channel();
      }
      FhirwallServer server = new FhirwallServer(boss, workers, upstream, stages.quota().store(), publicChannel, adminChannel, inFlight, config, tls);
      LOG.info("fhirwall listening on {} ({}), admin on {}, upstream {}", server.publicAddress(), epoll ? "epoll" : "nio",
          adminChannel == null ? "off" : adminChannel.localAddress(), upstreamSettings.baseUrlString());
      return server;
    } catch (InterruptedException | RuntimeException e) {
      stages.quota().store().leaveLoops();
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The EPR's breaker and bulkhead in the metrics (Resilience4j's binding: state, calls, slow
   * calls, permits), the EPR's answer time as a histogram, the allocator's buffers; every breaker
   * state change is logged (an open breaker means 503 for everyone).
   */
  private static void observe(CircuitBreaker breaker, MeterRegistry metrics) {
    Timer.Builder epr = Timer.builder("fhirwall.epr.duration").description("Time the EPR took to answer")
        .publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
        .maximumExpectedValue(java.time.Duration.ofSeconds(60));
    Timer ok = epr.tag("outcome", "ok").register(metrics);
    Timer error = epr.tag("outcome", "error").register(metrics);
    breaker.getEventPublisher()
        .onSuccess(e -> ok.record(e.getElapsedDuration()))
        .onError(e -> error.record(e.getElapsedDuration()))
        .onStateTransition(e -> {
          if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
            LOG.error("EPR circuit breaker {}: every request gets 503 until it closes again", e.getStateTransition());
          } else {
            LOG.warn("EPR circuit breaker {}", e.getStateTransition());
          }
        });
  }

  /** The buffer memory the channels' allocator holds. */
  private static void observe(ByteBufAllocator buffers, MeterRegistry metrics) {
    if (buffers instanceof ByteBufAllocatorMetricProvider provider) {
      Gauge.builder("netty.allocator.memory.used", provider, p -> p.metric().usedDirectMemory()).tag("memory", "direct")
          .baseUnit("bytes").description("Buffer memory Netty's allocator holds").register(metrics);
      Gauge.builder("netty.allocator.memory.used", provider, p -> p.metric().usedHeapMemory()).tag("memory", "heap")
          .baseUnit("bytes").description("Buffer memory Netty's allocator holds").register(metrics);
    }
  }

  /** The public port's open client connections, and those refused over {@code limits.max-connections}. */
  private static void observe(OpenConnections connections, MeterRegistry metrics) {
    Gauge.builder("fhirwall.connections.open", connections, OpenConnections::count)
        .description("Client connections open on the public port").register(metrics);
    FunctionCounter.builder("fhirwall.connections.refused", connections, OpenConnections::refused)
        .description("Client connections refused with 503 over limits.max-connections").register(metrics);
  }

  private static CircuitBreakerConfig breakerConfig(DeploymentConfig.Upstream u) {
    DeploymentConfig.CircuitBreaker c = u.circuitBreaker();
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(Math.max(100, c.minimumCalls()))
        .minimumNumberOfCalls(c.minimumCalls())
        .failureRateThreshold(c.failureRatePercent())
        .slowCallDurationThreshold(c.slowCall())
        .slowCallRateThreshold(100)
        .waitDurationInOpenState(c.openFor())
        .permittedNumberOfCallsInHalfOpenState(5)
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .build();
  }

  private static BulkheadConfig bulkheadConfig(DeploymentConfig.Upstream u) {
    return BulkheadConfig.custom()
        .maxConcurrentCalls(u.maxConcurrent())
        .maxWaitDuration(java.time.Duration.ZERO)
        .build();
  }

  private static @Nullable SslContext tls(DeploymentConfig.@Nullable Tls tls) {
    if (tls == null) {
      return null;
    }
    try {
      SslContextBuilder b = SslContextBuilder.forServer(tls.certificate().toFile(), tls.privateKey().toFile())
          .protocols("TLSv1.3", "TLSv1.2");
      if (tls.clientCa() != null) {
        b.trustManager(tls.clientCa().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot load TLS certificate/key: " + e.getMessage(), e);
    }
  }

  /** fhirwall's own reads of the EPR (care relationships), through this server's EPR client. */
  public org.fhirwall.care.EprReader eprReader() {
    return new EprReads(upstream, workers, config.upstreamSettings().baseUrlString());
  }

  public InetSocketAddress publicAddress() {
    return (InetSocketAddress) publicChannel.localAddress();
  }

  public @Nullable InetSocketAddress adminAddress() {
    return adminChannel == null ? null : (InetSocketAddress) adminChannel.localAddress();
  }

  /** Blocks until the server is closed ({@link #close}). For the {@code serve} command's main thread only. */
  public void awaitClose() throws InterruptedException {
    closed.await();
  }

  /**
   * Reads the public port's certificate and key (and client CA) again, and the EPR client's: new
   * connections use them; a file that cannot be read leaves the ones in force (logged).
   */
  public void reloadCertificates() {
    if (config.tls() != null) {
      try {
        tls.set(tls(config.tls()));
        LOG.info("public TLS certificate reloaded from {}", config.tls().certificate());
      } catch (RuntimeException e) {
        LOG.error("public TLS certificate NOT reloaded, the one in force stays: {}", e.getMessage());
      }
    }
    upstream.reloadTls();
  }

  /**
   * Stops accepting connections, lets the requests under way finish (new ones on kept-alive
   * connections get 503) up to {@code limits.shutdown-grace}, then closes every connection and
   * thread. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      awaitQuietly();
      return;
    }
    try {
      publicChannel.close().awaitUninterruptibly();
      try {
        if (!inFlight.drain(config.limits().shutdownGrace())) {
          LOG.warn("{} request(s) still under way after {}: closing anyway", inFlight.running(), config.limits().shutdownGrace());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (adminChannel != null) {
        adminChannel.close().awaitUninterruptibly();
      }
      upstream.close();
      store.leaveLoops();
      workers.shutdownGracefully(0, 5_000, TimeUnit.MILLISECONDS).awaitUninterruptibly();
      boss.shutdownGracefully(0, 1_000, TimeUnit.MILLISECONDS).awaitUninterruptibly();
    } finally {
      closed.countDown();
    }
  }

  private void awaitQuietly() {
    try {
      closed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
