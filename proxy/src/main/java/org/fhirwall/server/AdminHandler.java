package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import org.fhirwall.admin.AdminApi;

/** Serves the {@link AdminApi} on the admin port. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private final AdminApi api;

  AdminHandler(AdminApi api) {
    this.api = requireNonNull(api, "api");
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    String remote = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getHostString() : "?";
    api.handle(req.method().name(), req.uri(), remote).whenComplete((r, e) -> ctx.executor().execute(() -> {
      FullHttpResponse resp;
      if (e != null) {
        resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE,
            Unpooled.copiedBuffer("store unavailable\n", java.nio.charset.StandardCharsets.UTF_8));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      } else {
        resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
            Unpooled.wrappedBuffer(r.body()));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
      }
      Responses.standardHeaders(resp.headers(), resp.content().readableBytes(), null);
      Responses.write(ctx, resp, keepAlive);
    }));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
