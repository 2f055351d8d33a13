package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How access tokens are verified. The deployment file's {@code identity} section is bound into
 * this record by {@code config.DeploymentLoader}, whose schema holds the per-key rules (asymmetric
 * algorithms only, the clock-skew cap) and the defaults; {@link #builder(String, Collection)} has the
 * same defaults, for code and tests that build settings directly.
 *
 * <ul>
 *   <li>{@code issuer}: the exact {@code iss} tokens must carry, and the issuer the discovery
 *       document must name.
 *   <li>{@code audiences}: a token's {@code aud} (a string or an array) must contain at least one of
 *       these. There is no fallback to {@code azp}: a Keycloak realm needs an audience mapper (or
 *       a client scope with one) that puts fhirwall's audience into the access tokens.
 *   <li>{@code clients}: the token's authorised party ({@code azp}, else {@code client_id}) must be
 *       one of these; empty means any client of the issuer.
 *   <li>{@code algorithms}: the JWS algorithms accepted. Whatever is listed, the verifier only has
 *       asymmetric keys ({@link VerificationKey}) and refuses {@code none} and {@code HS*} outright
 *       ({@link TokenReader}); default {@link #DEFAULT_ALGORITHMS}.
 *   <li>{@code clockSkew}: tolerance for {@code exp}, {@code nbf} and {@code iat} (default 30 s).
 *   <li>{@code discoveryUrl}: the OpenID discovery document (default issuer +
 *       {@code /.well-known/openid-configuration}); read on every key refresh for {@code jwks_uri}
 *       and {@code introspection_endpoint}.
 *   <li>{@code jwksUri}: when set, keys are fetched from here and discovery is only used to find an
 *       introspection endpoint that is not configured.
 *   <li>{@code roleClaims}: where roles are read, in the claim path syntax of {@link ClaimPath}:
 *       segments separated by {@code .} (write {@code \.} for a dot inside a claim name),
 *       {@code <client>} (or {@code {client}}) standing for the token's authorised party and
 *       {@code *} for every member of an object. Default {@code realm_access.roles} and
 *       {@code resource_access.<client>.roles}. A path ending at a string yields one role, at an
 *       array its string elements.
 *   <li>{@code usernameClaim}: a claim path to the human-readable name (default
 *       {@code preferred_username}).
 *   <li>{@code introspection}: RFC 7662 introspection of every token (cached per token), or null.
 *   <li>{@code jwksRefreshMinInterval}: key fetches start at most this often, whatever the tokens
 *       ask for (a flood of unknown {@code kid}s costs the IdP one fetch per interval).
 *   <li>{@code jwksMaxAge}: keys fetched longer ago than this are no longer used when the IdP cannot
 *       be reached (tokens are then refused with 503).
 *   <li>{@code maxTokenBytes}: longer bearer tokens are refused without being decoded.
 * </ul>
 */
public record AuthSettings(
    String issuer,
    Set<String> audiences,
    Set<String> clients,
    List<String> algorithms,
    Duration clockSkew,
    URI discoveryUrl,
    @Nullable URI jwksUri,
    List<String> roleClaims,
    String usernameClaim,
    @Nullable Introspection introspection,
    Duration jwksRefreshMinInterval,
    Duration jwksMaxAge,
    int maxTokenBytes) {

  /** Every asymmetric JWS algorithm fhirwall verifies: the default. */
  public static final List<String> DEFAULT_ALGORITHMS =
      List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");

  public static final List<String> DEFAULT_ROLE_CLAIMS =
      List.of("realm_access.roles", "resource_access.<client>.roles");

  public AuthSettings {
    requireNonNull(issuer, "issuer");
    URI issuerUri = httpUrl("issuer", issuer);
    if (issuerUri.getRawQuery() != null || issuerUri.getRawFragment() != null) {
      throw new IllegalArgumentException("issuer: " + issuer + " (expected: no query or fragment)");
    }
    audiences = Set.copyOf(audiences);
    if (audiences.isEmpty() || audiences.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("audiences: " + audiences + " (expected: at least one, none blank)");
    }
    clients = Set.copyOf(clients);
    algorithms = List.copyOf(algorithms);
    if (algorithms.isEmpty()) {
      throw new IllegalArgumentException("algorithms: empty (expected: some of " + DEFAULT_ALGORITHMS + ")");
    }
    requireNonNull(clockSkew, "clockSkew");
    if (clockSkew.isNegative()) {
      throw new IllegalArgumentException("clockSkew: " + clockSkew + " (expected: >= 0)");
    }
    requireNonNull(discoveryUrl, "discoveryUrl");
    httpUrl("discoveryUrl", discoveryUrl.toString());
    if (jwksUri != null) {
      httpUrl("jwksUri", jwksUri.toString());
    }
    roleClaims = List.copyOf(roleClaims);
    roleClaims.forEach(ClaimPath::parse);
    requireNonNull(usernameClaim, "usernameClaim");
    ClaimPath.parse(usernameClaim);
    requireNonNull(jwksRefreshMinInterval, "jwksRefreshMinInterval");
    if (jwksRefreshMinInterval.isNegative() || jwksRefreshMinInterval.isZero()) {
      throw new IllegalArgumentException("jwksRefreshMinInterval: " + jwksRefreshMinInterval + " (expected: > 0)");
    }
    requireNonNull(jwksMaxAge, "jwksMaxAge");
    if (jwksMaxAge.compareTo(jwksRefreshMinInterval) < 0) {
      throw new IllegalArgumentException("jwksMaxAge: " + jwksMaxAge + " (expected: >= jwksRefreshMinInterval "
          + jwksRefreshMinInterval + ")");
    }
    if (maxTokenBytes < 256) {
      throw new IllegalArgumentException("maxTokenBytes: " + maxTokenBytes + " (expected: >= 256)");
    }
  }

  /** Why {@code path} is not a claim path (for configuration messages), or null when it is one. */
  public static @Nullable String claimPathProblem(String path) {
    try {
      ClaimPath.parse(path);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** The default discovery document of an issuer: issuer + {@code /.well-known/openid-configuration}. */
  public static URI defaultDiscoveryUrl(String issuer) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    return URI.create(base + "/.well-known/openid-configuration");
  }

  /** A builder with every optional field at its default; each field may be set once. */
  public static Builder builder(String issuer, Collection<String> audiences) {
    return new Builder(issuer, audiences);
  }

  /**
   * RFC 7662 token introspection. {@code endpoint} null: the discovery document's
   * {@code introspection_endpoint}. fhirwall authenticates with HTTP Basic ({@code clientId},
   * {@code clientSecret}); a result (active or not) is reused for {@code cacheFor} (zero: never).
   */
  public record Introspection(@Nullable URI endpoint, String clientId, String clientSecret, Duration cacheFor) {
    public Introspection {
      if (endpoint != null) {
        httpUrl("introspection.endpoint", endpoint.toString());
      }
      requireNonNull(clientId, "clientId");
      requireNonNull(clientSecret, "clientSecret");
      requireNonNull(cacheFor, "cacheFor");
      if (cacheFor.isNegative()) {
        throw new IllegalArgumentException("introspection.cacheFor: " + cacheFor + " (expected: >= 0)");
      }
    }

    @Override
    public String toString() {
      return "Introspection[endpoint=" + endpoint + ", clientId=" + clientId + ", cacheFor=" + cacheFor + "]";
    }
  }

  private static URI httpUrl(String field, String value) {
    URI uri;
    try {
      uri = new URI(value);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: an http(s) URL)", e);
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: an http(s) URL)");
    }
    return uri;
  }

  /** Builds {@link AuthSettings}; setting a field twice is an error. Not thread-safe. */
  public static final class Builder {
    private final String issuer;
    private final Set<String> audiences;
    private final Set<String> set = new LinkedHashSet<>();
    private Set<String> clients = Set.of();
    private List<String> algorithms = DEFAULT_ALGORITHMS;
    private Duration clockSkew = Duration.ofSeconds(30);
    private @Nullable URI discoveryUrl;
    private @Nullable URI jwksUri;
    private List<String> roleClaims = DEFAULT_ROLE_CLAIMS;
    private String usernameClaim = "preferred_username";
    private @Nullable Introspection introspection;
    private Duration jwksRefreshMinInterval = Duration.ofSeconds(30);
    private Duration jwksMaxAge = Duration.ofHours(24);
    private int maxTokenBytes = 16 * 1024;

    private Builder(String issuer, Collection<String> audiences) {
      this.issuer = requireNonNull(issuer, "issuer");
      this.audiences = Set.copyOf(audiences);
    }

    private void once(String field) {
      if (!set.add(field)) {
        throw new IllegalStateException(field + ": set twice");
      }
    }

    public Builder clients(Collection<String> value) {
      once("clients");
      clients = Set.copyOf(value);
      return this;
    }

    public Builder algorithms(List<String> value) {
      once("algorithms");
      algorithms = List.copyOf(value);
      return this;
    }

    public Builder clockSkew(Duration value) {
      once("clockSkew");
      clockSkew = requireNonNull(value, "clockSkew");
      return this;
    }

    /** Null keeps the default (issuer + {@code /.well-known/openid-configuration}). */
    public Builder discoveryUrl(@Nullable URI value) {
      once("discoveryUrl");
      discoveryUrl = value;
      return this;
    }

    /** Null: the discovery document's {@code jwks_uri}. */
    public Builder jwksUri(@Nullable URI value) {
      once("jwksUri");
      jwksUri = value;
      return this;
    }

    public Builder roleClaims(List<String> value) {
      once("roleClaims");
      roleClaims = List.copyOf(value);
      return this;
    }

    public Builder usernameClaim(String value) {
      once("usernameClaim");
      usernameClaim = requireNonNull(value, "usernameClaim");
      return this;
    }

    /** Null: no introspection. */
    public Builder introspection(@Nullable Introspection value) {
      once("introspection");
      introspection = value;
      return this;
    }

    public Builder jwksRefreshMinInterval(Duration value) {
      once("jwksRefreshMinInterval");
      jwksRefreshMinInterval = requireNonNull(value, "jwksRefreshMinInterval");
      return this;
    }

    public Builder jwksMaxAge(Duration value) {
      once("jwksMaxAge");
      jwksMaxAge = requireNonNull(value, "jwksMaxAge");
      return this;
    }

    public Builder maxTokenBytes(int value) {
      once("maxTokenBytes");
      maxTokenBytes = value;
      return this;
    }

    /** @throws IllegalArgumentException naming the field, its value and what was expected */
    public AuthSettings build() {
      URI discovery = discoveryUrl != null ? discoveryUrl : defaultDiscoveryUrl(issuer);
      return new AuthSettings(issuer, audiences, clients, algorithms, clockSkew, discovery, jwksUri, roleClaims,
          usernameClaim, introspection, jwksRefreshMinInterval, jwksMaxAge, maxTokenBytes);
    }
  }
}
