package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.fhirwall.admin.AdminApi;
import org.fhirwall.respond.Answer;

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
    api.handle(req.method().name(), req.uri(), req.headers().get("Host"), req.headers().get("Authorization"), remote).whenComplete((r, e) -> ctx.executor().execute(() -> {
      Answer answer = e != null
          ? new Answer(503, List.of(Map.entry("Content-Type", "text/plain; charset=utf-8"), Map.entry("Cache-Control", "no-store")),
              "store unavailable\n".getBytes(StandardCharsets.UTF_8), false)
          : new Answer(r.status(), List.of(Map.entry("Content-Type", r.contentType()), Map.entry("Cache-Control", "no-store"),
              Map.entry("X-Content-Type-Options", "nosniff")), r.body(), false);
      Responses.write(ctx, answer, keepAlive);
    }));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
