package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The deployment file (hospital IT): where fhirwall listens, where the EPR is, which identity
 * provider it trusts, where policies, audit and state live. Immutable; every field validated by
 * {@link DeploymentLoader}. The keys are documented in the README's configuration reference.
 */
public record DeploymentConfig(
    HostPort listen,
    URI publicBaseUrl,
    @Nullable Tls tls,
    Upstream upstream,
    Identity identity,
    Path policies,
    Limits limits,
    Quota quota,
    Audit audit,
    Alerts alerts,
    @Nullable HostPort admin,
    Paging paging,
    String breakGlassHeader) {

  public DeploymentConfig {
    requireNonNull(listen, "listen");
    requireNonNull(publicBaseUrl, "publicBaseUrl");
    requireNonNull(upstream, "upstream");
    requireNonNull(identity, "identity");
    requireNonNull(policies, "policies");
    requireNonNull(limits, "limits");
    requireNonNull(quota, "quota");
    requireNonNull(audit, "audit");
    requireNonNull(alerts, "alerts");
    requireNonNull(paging, "paging");
    requireNonNull(breakGlassHeader, "breakGlassHeader");
  }

  /** The path under which FHIR is served, from the public base URL: {@code /fhir}, or empty for the root. */
  public String basePath() {
    String p = publicBaseUrl.getRawPath();
    if (p == null || p.equals("/")) {
      return "";
    }
    return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /** An address to listen on. */
  public record HostPort(String host, int port) {
    public HostPort {
      requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
      }
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** TLS for the public port; with {@code clientCa}, clients must present a certificate (mTLS). */
  public record Tls(Path certificate, Path privateKey, @Nullable Path clientCa) {
    public Tls {
      requireNonNull(certificate, "certificate");
      requireNonNull(privateKey, "privateKey");
    }
  }

  /**
   * The EPR's FHIR endpoint and how fhirwall talks to it.
   *
   * @param headers static headers added to every upstream request (e.g. the EPR's own API key)
   * @param maxConnectionsPerLoop pooled keep-alive connections per event loop
   * @param maxConcurrent the bulkhead: requests in flight to the EPR at once, all clients together
   */
  public record Upstream(
      URI url,
      Duration connectTimeout,
      Duration responseTimeout,
      int maxConnectionsPerLoop,
      int maxConcurrent,
      CircuitBreaker circuitBreaker,
      Map<String, String> headers) {
    public Upstream {
      requireNonNull(url, "url");
      requireNonNull(connectTimeout, "connectTimeout");
      requireNonNull(responseTimeout, "responseTimeout");
      requireNonNull(circuitBreaker, "circuitBreaker");
      headers = Map.copyOf(headers);
    }
  }

  /** When to stop calling a failing EPR, and for how long. */
  public record CircuitBreaker(int failureRatePercent, int minimumCalls, Duration slowCall, Duration openFor) {}

  /**
   * The identity provider fhirwall trusts.
   *
   * @param discoveryUrl null: {@code issuer + /.well-known/openid-configuration}
   * @param roleClaims dotted claim paths holding role lists; {@code <client>} in a path stands for
   *     each allowed client
   */
  public record Identity(
      String issuer,
      Set<String> audiences,
      Set<String> clients,
      List<String> algorithms,
      Duration clockSkew,
      @Nullable URI discoveryUrl,
      @Nullable URI jwksUri,
      List<String> roleClaims,
      String usernameClaim,
      @Nullable Introspection introspection,
      Duration jwksRefreshInterval,
      Duration jwksMaxAge,
      int maxTokenBytes) {
    public Identity {
      requireNonNull(issuer, "issuer");
      audiences = Set.copyOf(audiences);
      clients = Set.copyOf(clients);
      algorithms = List.copyOf(algorithms);
      requireNonNull(clockSkew, "clockSkew");
      roleClaims = List.copyOf(roleClaims);
      requireNonNull(usernameClaim, "usernameClaim");
      requireNonNull(jwksRefreshInterval, "jwksRefreshInterval");
      requireNonNull(jwksMaxAge, "jwksMaxAge");
    }
  }

  /** RFC 7662 token introspection: a token the IdP reports inactive is refused within {@code cacheFor}. */
  public record Introspection(@Nullable URI endpoint, String clientId, String clientSecret, Duration cacheFor) {
    public Introspection {
      requireNonNull(clientId, "clientId");
      requireNonNull(clientSecret, "clientSecret");
      requireNonNull(cacheFor, "cacheFor");
    }

    @Override
    public String toString() {
      return "Introspection[endpoint=" + endpoint + ", clientId=" + clientId + ", cacheFor=" + cacheFor + "]";
    }
  }

  /** Bounds on what clients send and how long they may take. */
  public record Limits(
      int maxRequestBody,
      long maxResponseBody,
      int maxInitialLine,
      int maxHeaderSize,
      int maxHeaders,
      Duration requestTimeout,
      Duration idleTimeout) {}

  /** Where patient counts and locks live: this process only, or shared through Redis. */
  public record Quota(String store, int maxAccounts) {}

  /** Where audit records go. */
  public record Audit(@Nullable Path file, boolean stdout) {}

  /** Where alerts go besides the audit log. */
  public record Alerts(@Nullable URI webhook) {}

  /**
   * Paging links fhirwall hands out. Replicas must share {@code secretFile}; without one, a random
   * secret is made at start and links only work on this process.
   */
  public record Paging(@Nullable Path secretFile, Duration linkTtl) {}
}
