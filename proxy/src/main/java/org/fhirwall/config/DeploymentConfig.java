package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.AuthSettings;
import org.fhirwall.auth.DpopSettings;
import org.fhirwall.fhir.ParserSettings;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.upstream.UpstreamSettings;
import org.jspecify.annotations.Nullable;

/**
 * The deployment file (hospital IT): where fhirwall listens, where the EPR is, which identity
 * provider it trusts, where policies, audit and state live. Immutable; read and validated by
 * {@link DeploymentLoader} against {@code policies/deployment.schema.json}, whose descriptions
 * are the README's key table. The settings of each stage are derived here, once
 * ({@link #identity()} is the auth stage's own settings; {@link #upstreamSettings()},
 * {@link #parserSettings()}, {@link #inspectorSettings()}), never copied field by field elsewhere.
 *
 * @param nonMfaAcr {@code identity.non-mfa-acr}: acr values a role policy may not accept as MFA evidence
 * @param relationships how care relationships are learned from the EPR, null when the deployment
 *     has no {@code relationships} section (nobody has any)
 */
public record DeploymentConfig(
    HostPort listen,
    URI publicBaseUrl,
    Cors cors,
    @Nullable Tls tls,
    Upstream upstream,
    AuthSettings identity,
    DpopSettings dpop,
    Set<String> nonMfaAcr,
    Path policies,
    PolicyReload policyReload,
    Limits limits,
    Quota quota,
    Audit audit,
    Alerts alerts,
    Logging logging,
    Tracing tracing,
    Containment containment,
    org.fhirwall.care.@Nullable RelationshipSettings relationships,
    @Nullable Admin admin,
    Paging paging,
    String breakGlassHeader) {

  public DeploymentConfig {
    requireNonNull(listen, "listen");
    requireNonNull(publicBaseUrl, "publicBaseUrl");
    requireNonNull(upstream, "upstream");
    requireNonNull(identity, "identity");
    requireNonNull(cors, "cors");
    requireNonNull(dpop, "dpop");
    nonMfaAcr = Set.copyOf(nonMfaAcr);
    requireNonNull(policies, "policies");
    requireNonNull(policyReload, "policyReload");
    requireNonNull(limits, "limits");
    requireNonNull(quota, "quota");
    requireNonNull(audit, "audit");
    requireNonNull(alerts, "alerts");
    requireNonNull(logging, "logging");
    requireNonNull(tracing, "tracing");
    requireNonNull(containment, "containment");
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

  /** The request stage's bounds: the defaults, with the deployment's {@code limits.max-request-body}. */
  public ParserSettings parserSettings() {
    return ParserSettings.defaults(basePath()).withMaxBodyBytes(limits.maxRequestBody());
  }

  /** How the upstream stage reaches the EPR; responses are bounded by {@code limits.max-response-body}. */
  public UpstreamSettings upstreamSettings() {
    return new UpstreamSettings(upstream.url(), upstream.connectTimeout(), upstream.responseTimeout(),
        upstream.maxConnectionsPerLoop(), limits.maxResponseBody(), upstream.headers(), upstream.tls().ca(),
        upstream.tls().certificate(), upstream.tls().privateKey());
  }

  /**
   * How the inspect stage reads EPR responses: decoded bodies up to 8× the largest response read, nested
   * as deep as whatever a request may write comes back ({@link ParserSettings#READ_BACK_DEPTH}).
   */
  public InspectorSettings inspectorSettings() {
    return new InspectorSettings(List.of(upstreamSettings().baseUrlString()), limits.maxResponseBody() * 8,
        ParserSettings.READ_BACK_DEPTH);
  }

  /** What an operator should know before trusting this deployment; {@code serve} logs each at start. */
  public List<String> warnings() {
    List<String> out = new ArrayList<>();
    if (identity.clients().isEmpty()) {
      out.add("identity.clients is empty: every client of " + identity.issuer()
          + " whose tokens carry the audience " + identity.audiences()
          + " is accepted, test and password-only clients included (expected: the clients allowed, e.g. clients: [fhirwall-web])");
    }
    return out;
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
   * @param maxPageSize {@code upstream.max-page-size}: the most entries the EPR puts in one search page,
   *     null when the deployment does not say (role policies' {@code search.max-count} is then not checked against it)
   */
  public record Upstream(
      URI url,
      Duration connectTimeout,
      Duration responseTimeout,
      int maxConnectionsPerLoop,
      int maxConcurrent,
      @Nullable Integer maxPageSize,
      UpstreamTls tls,
      PerPrincipal perPrincipal,
      CircuitBreaker circuitBreaker,
      Map<String, String> headers) {
    public Upstream {
      requireNonNull(url, "url");
      requireNonNull(perPrincipal, "perPrincipal");
      requireNonNull(tls, "tls");
      requireNonNull(connectTimeout, "connectTimeout");
      requireNonNull(responseTimeout, "responseTimeout");
      requireNonNull(circuitBreaker, "circuitBreaker");
      headers = Map.copyOf(headers);
    }

    @Override
    public String toString() {
      return "Upstream[url=" + url + ", headers=" + headers.keySet() + "]";
    }
  }

  /** TLS towards the EPR: a CA to trust instead of the JVM's, and a client certificate (all PEM, each optional). */
  public record UpstreamTls(@Nullable Path ca, @Nullable Path certificate, @Nullable Path privateKey) {
    public static final UpstreamTls DEFAULT = new UpstreamTls(null, null, null);
  }

  /**
   * What one principal may take of the EPR: requests in flight at once, and how many of its
   * requests may make the EPR fail or time out within {@code failureWindow} before it is throttled
   * for {@code throttleFor}.
   */
  public record PerPrincipal(int maxConcurrent, int maxFailures, Duration failureWindow, Duration throttleFor) {
    public PerPrincipal {
      requireNonNull(failureWindow, "failureWindow");
      requireNonNull(throttleFor, "throttleFor");
    }
  }

  /** When to stop calling a failing EPR, and for how long. */
  public record CircuitBreaker(int failureRatePercent, int minimumCalls, Duration slowCall, Duration openFor) {}

  /** What a change of the policy directory may do while fhirwall runs ({@code policy-reload}). */
  public record PolicyReload(boolean allowWeakening) {}

  /** Bounds on what clients send and how long they may take. */
  public record Limits(
      int maxRequestBody,
      long maxResponseBody,
      int maxInitialLine,
      int maxHeaderSize,
      int maxHeaders,
      Duration requestTimeout,
      Duration idleTimeout,
      int maxConnections,
      Duration shutdownGrace) {}

  /**
   * Where everything that limits a principal lives: this process only ({@code store} {@code local},
   * kept across restarts in {@code stateDir} when set), or shared through Redis ({@code redis}).
   *
   * @param onStoreFailure {@code deny} or {@code local-fallback}
   * @param replicas how many replicas share the limits (each enforces 1/replicas in local fallback)
   */
  public record Quota(String store, int maxAccounts, @Nullable Path stateDir, String onStoreFailure, int replicas,
      @Nullable Redis redis) {
    public Quota {
      requireNonNull(store, "store");
      requireNonNull(onStoreFailure, "onStoreFailure");
    }

    public Quota(String store, int maxAccounts) {
      this(store, maxAccounts, null, "deny", 1, null);
    }

    public boolean localFallback() {
      return onStoreFailure.equals("local-fallback");
    }
  }

  /**
   * The Redis the replicas share ({@code quota.redis}); {@code password} is read from
   * {@code password-file} at load time and never printed.
   */
  public record Redis(String url, boolean cluster, @Nullable String username, @Nullable String password,
      @Nullable Path caFile, Duration timeout, Duration replay, Duration startWait, String keyPrefix) {
    public Redis {
      requireNonNull(url, "url");
      requireNonNull(timeout, "timeout");
      requireNonNull(replay, "replay");
      requireNonNull(startWait, "startWait");
      requireNonNull(keyPrefix, "keyPrefix");
    }

    @Override
    public String toString() {
      return "Redis[url=" + url.replaceAll("//[^@/]*@", "//***@") + ", cluster=" + cluster + ", username=" + username + ", password="
          + (password == null ? "none" : "***") + "]";
    }
  }

  /**
   * Where audit records go and how: the file and standard output, each when set (at least one is).
   *
   * @param onFailure {@code alarm} or {@code refuse}
   * @param maxSize rotate the file at this size (bytes)
   * @param checkpointKey the HMAC key of checkpoints (read from {@code checkpoint.key-file}), null for none
   */
  public record Audit(@Nullable Path file, boolean stdout, @Nullable Syslog syslog, @Nullable Repository repository,
      @Nullable Path spoolDir, long spoolMaxSize, int queue, String onFailure,
      Duration fsyncInterval, long maxSize, Duration rotateEvery, byte @Nullable [] checkpointKey, int checkpointRecords,
      Duration checkpointEvery) {}

  /** A FHIR audit repository for the audit records; {@code bearer} read from its token file. */
  public record Repository(URI url, @Nullable String bearer, Duration timeout) {
    @Override
    public String toString() {
      return "Repository[url=" + url + ", bearer=" + (bearer == null ? "none" : "***") + ", timeout=" + timeout + "]";
    }
  }

  /** A syslog server over TLS for the audit records. */
  public record Syslog(HostPort address, @Nullable Path caFile, Duration timeout) {}

  /**
   * The admin listener: health and readiness for everyone who can reach it, the lock API only for
   * operators holding a token from {@code tokenFile}; {@code hosts} are the extra {@code Host}
   * names it answers to.
   */
  public record Admin(HostPort listen, @Nullable Path tokenFile, List<String> hosts) {
    public Admin {
      requireNonNull(listen, "listen");
      hosts = List.copyOf(hosts);
    }
  }

  /**
   * What happens at the IdP when fhirwall locks a user: with {@code endIdpSessions}, the user's
   * sessions are ended there through {@code clientId}'s service account.
   */
  public record Containment(boolean endIdpSessions, @Nullable String clientId, @Nullable Path clientSecretFile,
      @Nullable URI adminUrl) {}

  /** fhirwall's own log: whether it writes one access line per request. */
  public record Logging(boolean access) {}

  /**
   * OpenTelemetry traces: off when {@code otlpEndpoint} is null.
   *
   * @param otlpEndpoint the collector's OTLP/HTTP traces URL ({@code http://collector:4318/v1/traces})
   */
  public record Tracing(@Nullable URI otlpEndpoint, String serviceName) {
    public Tracing {
      requireNonNull(serviceName, "serviceName");
    }
  }

  /**
   * Where alerts go besides the audit log, and how.
   *
   * @param secretFile the HMAC key shared with the webhook's receiver, null to send unsigned
   * @param refusalBurst more refusals than this for one principal within {@code refusalWindow} alert
   */
  public record Alerts(@Nullable URI webhook, @Nullable Path secretFile, int retries, Duration firstRetry, int refusalBurst,
      Duration refusalWindow) {
    public Alerts {
      requireNonNull(firstRetry, "firstRetry");
      requireNonNull(refusalWindow, "refusalWindow");
    }
  }

  /**
   * Paging links fhirwall hands out. Without {@code secretFile} the key is kept in the quota store:
   * shared by every replica with Redis, kept in {@code quota.state-dir} by the local store, or
   * random per start.
   */
  public record Paging(@Nullable Path secretFile, Duration linkTtl) {}

  /**
   * Cross-origin access for browser apps ({@code cors}).
   *
   * @param allowedOrigins origins ({@code scheme://host[:port]}) whose pages may call fhirwall; empty: none
   * @param maxAge how long a preflight answer may be cached
   */
  public record Cors(List<String> allowedOrigins, Duration maxAge) {
    public Cors {
      allowedOrigins = List.copyOf(allowedOrigins);
      requireNonNull(maxAge, "maxAge");
    }

    public static final Cors NONE = new Cors(List.of(), Duration.ofMinutes(10));
  }
}
