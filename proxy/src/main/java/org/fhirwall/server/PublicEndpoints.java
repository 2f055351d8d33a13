package org.fhirwall.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.respond.Answer;
import org.fhirwall.respond.Cors;

/**
 * The few requests fhirwall answers without a token, told apart from the request head alone:
 * CORS preflights (answered here, never forwarded), {@code [base]/.well-known/smart-configuration}
 * and {@code GET [base]/metadata} without an {@code Authorization} header. Everything else goes the
 * ordinary way, token first.
 */
final class PublicEndpoints {
  enum Route {
    PREFLIGHT,
    SMART_CONFIGURATION,
    METADATA,
    NONE
  }

  private PublicEndpoints() {}

  static Route route(HttpRequest head, ProxySettings settings, PublicAccess access) {
    String uri = head.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    String base = settings.publicPath();
    HttpMethod method = head.method();
    if (method.equals(HttpMethod.OPTIONS) && head.headers().contains(HttpHeaderNames.ORIGIN)) {
      return Route.PREFLIGHT;
    }
    if (access.smart() == null) {
      return Route.NONE;
    }
    if (method.equals(HttpMethod.GET) && path.equals(base + "/.well-known/smart-configuration")) {
      return Route.SMART_CONFIGURATION;
    }
    if (method.equals(HttpMethod.GET) && path.equals(base + "/metadata") && !head.headers().contains(HttpHeaderNames.AUTHORIZATION)) {
      return Route.METADATA;
    }
    return Route.NONE;
  }

  /** The answer to a preflight: 204 with the CORS headers, or 403 for an origin, method or header not allowed. */
  static @org.jspecify.annotations.Nullable Answer preflight(HttpRequest head, Cors cors) {
    Cors.Preflight p = cors.preflight(head.headers().get(HttpHeaderNames.ORIGIN),
        head.headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD),
        head.headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS));
    if (p instanceof Cors.Preflight.Allowed allowed) {
      return new Answer(204, allowed.headers(), new byte[0], false);
    }
    return null;
  }

  static Refusal preflightRefused(HttpRequest head, Cors cors) {
    Cors.Preflight p = cors.preflight(head.headers().get(HttpHeaderNames.ORIGIN),
        head.headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD),
        head.headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS));
    String reason = p instanceof Cors.Preflight.Refused r ? r.reason() : "refused";
    return Refusal.of(403, IssueType.FORBIDDEN, "CORS preflight refused: " + reason);
  }

  static Answer json(byte[] body, String contentType) {
    return new Answer(200, List.of(Map.entry("Content-Type", contentType), Map.entry("Cache-Control", "no-store")), body,
        false);
  }
}
