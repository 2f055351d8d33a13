package org.fhirwall.upstream;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How fhirwall reaches the EPR.
 *
 * @param baseUrl the EPR's FHIR base URL ({@code http://epr:8080/fhir})
 * @param maxConnectionsPerLoop keep-alive connections each event loop may hold open
 * @param maxResponseBody the largest response body read, in bytes; larger responses fail
 * @param staticHeaders headers sent with every request (e.g. the EPR's API key)
 * @param trust CA certificates (PEM) trusted for the EPR, null for the JVM's defaults
 * @param clientCertificate fhirwall's client certificate chain (PEM) for an EPR asking for one, or null
 * @param clientKey its private key (PEM, PKCS#8), set exactly with {@code clientCertificate}
 */
public record UpstreamSettings(
    URI baseUrl,
    Duration connectTimeout,
    Duration responseTimeout,
    int maxConnectionsPerLoop,
    long maxResponseBody,
    Map<String, String> staticHeaders,
    @Nullable Path trust,
    @Nullable Path clientCertificate,
    @Nullable Path clientKey) {

  public UpstreamSettings {
    requireNonNull(baseUrl, "baseUrl");
    String scheme = baseUrl.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("baseUrl: " + baseUrl + " (expected: http or https)");
    }
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(responseTimeout, "responseTimeout");
    if (maxConnectionsPerLoop < 1) {
      throw new IllegalArgumentException("maxConnectionsPerLoop: " + maxConnectionsPerLoop + " (expected: >= 1)");
    }
    if (maxResponseBody < 1 || maxResponseBody > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxResponseBody: " + maxResponseBody + " (expected: 1.." + Integer.MAX_VALUE + ")");
    }
    staticHeaders = Map.copyOf(staticHeaders);
    if ((clientCertificate == null) != (clientKey == null)) {
      throw new IllegalArgumentException("clientCertificate and clientKey: expected both or neither");
    }
  }

  public UpstreamSettings(URI baseUrl, Duration connectTimeout, Duration responseTimeout, int maxConnectionsPerLoop,
      long maxResponseBody, Map<String, String> staticHeaders) {
    this(baseUrl, connectTimeout, responseTimeout, maxConnectionsPerLoop, maxResponseBody, staticHeaders, null, null, null);
  }

  public boolean tls() {
    return "https".equals(baseUrl.getScheme());
  }

  public String host() {
    return baseUrl.getHost();
  }

  public int port() {
    int p = baseUrl.getPort();
    return p > 0 ? p : (tls() ? 443 : 80);
  }

  /** The Host header value. */
  public String authority() {
    int p = baseUrl.getPort();
    return p > 0 ? baseUrl.getHost() + ":" + p : baseUrl.getHost();
  }

  /** The base path without a trailing slash ({@code /fhir}, or empty). */
  public String basePath() {
    String p = baseUrl.getRawPath();
    if (p == null || p.isEmpty() || p.equals("/")) {
      return "";
    }
    return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /** The base URL as the EPR writes it in links, without a trailing slash. */
  public String baseUrlString() {
    String s = baseUrl.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
