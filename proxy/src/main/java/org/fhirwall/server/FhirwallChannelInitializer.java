package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.upstream.Upstream;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** The public port's pipeline, in the order bytes travel through it. */
final class FhirwallChannelInitializer extends ChannelInitializer<SocketChannel> {
  /** The public port's TLS context: read anew for each connection, so reloaded certificates apply at once. */
  private final Supplier<@Nullable SslContext> tls;
  private final InFlight inFlight;
  private final OpenConnections connections;
  private final DeploymentConfig.Limits limits;
  private final Stages stages;
  private final Upstream upstream;
  private final ProxySettings settings;

  FhirwallChannelInitializer(Supplier<@Nullable SslContext> tls, DeploymentConfig.Limits limits, Stages stages, InFlight inFlight,
      OpenConnections connections, Upstream upstream, ProxySettings settings) {
    this.tls = requireNonNull(tls, "tls");
    this.inFlight = requireNonNull(inFlight, "inFlight");
    this.connections = requireNonNull(connections, "connections");
    this.limits = requireNonNull(limits, "limits");
    this.stages = requireNonNull(stages, "stages");
    this.upstream = requireNonNull(upstream, "upstream");
    this.settings = requireNonNull(settings, "settings");
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    addTlsHandlers(ch, p);
    addHttpHandlers(p, limits);
    addConnectionCap(p, connections);
    addLimits(p, limits);
    addProxyHandler(p);
  }

  private void addTlsHandlers(SocketChannel ch, ChannelPipeline p) {
    SslContext context = tls.get();
    if (context != null) {
      p.addLast("tls", context.newHandler(ch.alloc()));
    }
  }

  /**
   * Most requests one connection may have decoded and not yet answered (HTTP pipelining); one more
   * in the same read is refused by {@link FramingGuard} (the codec could not match answers to it).
   */
  static final int MAX_PIPELINED = 128;

  /**
   * The HTTP/1.1 codec with strict parsing: bare LF, oversized lines and headers are decoder
   * failures; a folded header line (obsolete line folding) is refused before the decoder, which
   * would join it to the line above ({@link HeaderFolding}).
   */
  static void addHttpHandlers(ChannelPipeline p, DeploymentConfig.Limits limits) {
    HttpDecoderConfig decoder = new HttpDecoderConfig()
        .setMaxInitialLineLength(limits.maxInitialLine())
        .setMaxHeaderSize(limits.maxHeaderSize())
        .setMaxChunkSize(64 * 1024)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setAllowPartialChunks(true);
    HeaderFolding folding = new HeaderFolding();
    p.addLast("first-bytes", new RequestDeadline.FirstBytes());
    p.addLast("folding", folding);
    p.addLast("http", new HttpServerCodec(decoder, MAX_PIPELINED));
    p.addLast("folding-watch", folding.watch());
  }

  /**
   * The cap on open connections: after the HTTP codec, so that a connection over it is answered in
   * HTTP (behind TLS too), and before the deadlines, which a refused connection never reaches.
   */
  static void addConnectionCap(ChannelPipeline p, OpenConnections connections) {
    p.addLast("connections", new ConnectionCap(connections));
  }

  /**
   * Deadlines and framing checks: what every request meets before its exchange. The body is not
   * aggregated here: the exchange reads it (bounded) only once the sender's token is verified.
   */
  static void addLimits(ChannelPipeline p, DeploymentConfig.Limits limits) {
    p.addLast("deadline", new RequestDeadline(limits.idleTimeout(), limits.requestTimeout()));
    p.addLast("framing", new FramingGuard(limits.maxHeaders(), limits.maxRequestBody()));
  }

  private void addProxyHandler(ChannelPipeline p) {
    p.addLast("exchange", new ExchangeHandler(stages, upstream, settings, limits.maxRequestBody(), inFlight));
  }
}
