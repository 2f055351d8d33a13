package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Cross-origin access for browser apps (the deployment's {@code cors}): which origins may call
 * fhirwall from a page, and with what. Preflights are answered here and never reach the EPR. Only
 * what FHIR clients need is allowed: the FHIR methods, and the headers {@code Authorization},
 * {@code DPoP}, {@code Content-Type}, {@code Accept}, {@code Prefer} and {@code If-*}. No
 * {@code Access-Control-Allow-Credentials}: tokens travel in headers, never in cookies. No origin
 * configured (the default): no CORS header is ever sent and every preflight is refused. Immutable.
 */
public final class Cors {
  static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
  static final Set<String> HEADERS = Set.of("authorization", "dpop", "content-type", "accept", "prefer", "if-match",
      "if-none-match", "if-none-exist", "if-modified-since", "x-request-id");
  static final String EXPOSED = "WWW-Authenticate, DPoP-Nonce, Location, Content-Location, ETag, Last-Modified, Retry-After, "
      + "X-Request-Id";

  public static final Cors NONE = new Cors(List.of(), Duration.ofMinutes(10));

  private final Set<String> origins;
  private final Duration maxAge;

  public Cors(List<String> origins, Duration maxAge) {
    this.origins = Set.copyOf(origins.stream().map(o -> o.toLowerCase(Locale.ROOT)).toList());
    this.maxAge = requireNonNull(maxAge, "maxAge");
  }

  /** Whether {@code origin} (the request's {@code Origin} header) may read fhirwall's answers. */
  public boolean allows(@Nullable String origin) {
    return origin != null && origins.contains(origin.toLowerCase(Locale.ROOT));
  }

  /** The headers every answer to a request from {@code origin} carries: none for another origin. */
  public List<Map.Entry<String, String>> headersFor(@Nullable String origin) {
    if (!allows(origin)) {
      return List.of();
    }
    return List.of(Map.entry("Access-Control-Allow-Origin", origin), Map.entry("Vary", "Origin"),
        Map.entry("Access-Control-Expose-Headers", EXPOSED));
  }

  /** What a preflight asked for; the answer is {@link Preflight.Allowed} headers or a refusal reason. */
  public sealed interface Preflight {
    record Allowed(List<Map.Entry<String, String>> headers) implements Preflight {}

    record Refused(String reason) implements Preflight {}
  }

  /**
   * The answer to a CORS preflight ({@code OPTIONS} with {@code Origin} and
   * {@code Access-Control-Request-Method}).
   */
  public Preflight preflight(@Nullable String origin, @Nullable String method, @Nullable String requestHeaders) {
    if (!allows(origin)) {
      return new Preflight.Refused("origin " + (origin == null ? "missing" : origin) + " is not allowed (cors.allowed-origins)");
    }
    if (method == null || !METHODS.contains(method)) {
      return new Preflight.Refused("method " + method + " is not allowed (expected one of " + METHODS + ")");
    }
    List<String> asked = new ArrayList<>();
    if (requestHeaders != null) {
      for (String h : requestHeaders.split(",")) {
        String name = h.strip().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
          continue;
        }
        if (!HEADERS.contains(name)) {
          return new Preflight.Refused("header " + name + " is not allowed (expected some of " + HEADERS.stream().sorted().toList() + ")");
        }
        asked.add(name);
      }
    }
    List<Map.Entry<String, String>> out = new ArrayList<>(headersFor(origin));
    out.add(Map.entry("Access-Control-Allow-Methods", String.join(", ", METHODS)));
    if (!asked.isEmpty()) {
      out.add(Map.entry("Access-Control-Allow-Headers", String.join(", ", asked)));
    }
    out.add(Map.entry("Access-Control-Max-Age", Long.toString(maxAge.toSeconds())));
    return new Preflight.Allowed(out);
  }
}
