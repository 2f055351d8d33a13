package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The demo's token issuer: a minimal OpenID provider on {@code 127.0.0.1} (an ephemeral port,
 * never any other address) that publishes a discovery document and a JWKS and mints
 * Keycloak-shaped RS256 access tokens on request. The RSA key is generated at start and lives only
 * in this process. For the {@code demo} command and tests only; nothing on the serving path uses it.
 *
 * <p>Endpoints: {@code GET /.well-known/openid-configuration} ({@code issuer}, {@code jwks_uri})
 * and {@code GET /jwks}. {@link #mint} is thread-safe; {@link #close} stops the server.
 */
public final class DemoIssuer implements AutoCloseable {
  private static final String LOOPBACK = "127.0.0.1";

  private final HttpServer server;
  private final RSAKey key;
  private final Clock clock;
  private final String issuer;

  private DemoIssuer(HttpServer server, RSAKey key, Clock clock) {
    this.server = server;
    this.key = key;
    this.clock = clock;
    this.issuer = "http://" + LOOPBACK + ":" + server.getAddress().getPort();
  }

  /** Starts an issuer on 127.0.0.1 and an ephemeral port, with a new 2048-bit RSA key. */
  public static DemoIssuer start() {
    return start(InetAddress.getLoopbackAddress(), Clock.systemUTC());
  }

  /**
   * @param address must be 127.0.0.1: the demo issuer signs whatever it is asked to, so it is
   *     never reachable from another host
   * @throws IllegalArgumentException for any other address
   */
  static DemoIssuer start(InetAddress address, Clock clock) {
    requireNonNull(address, "address");
    requireNonNull(clock, "clock");
    if (!LOOPBACK.equals(address.getHostAddress())) {
      throw new IllegalArgumentException("address: " + address.getHostAddress() + " (expected: " + LOOPBACK + " only)");
    }
    RSAKey key = newKey();
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address, 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the demo issuer on " + LOOPBACK, e);
    }
    DemoIssuer issuer = new DemoIssuer(server, key, clock);
    String jwks = new JWKSet(key.toPublicJWK()).toString(true);
    String discovery = "{\"issuer\":\"" + issuer.issuer + "\",\"jwks_uri\":\"" + issuer.issuer + "/jwks\","
        + "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";
    server.createContext("/.well-known/openid-configuration", ex -> respond(ex, "/.well-known/openid-configuration", discovery));
    server.createContext("/jwks", ex -> respond(ex, "/jwks", jwks));
    server.start();
    return issuer;
  }

  /** The issuer URL ({@code http://127.0.0.1:<port>}); its discovery document is at issuer + {@code /.well-known/openid-configuration}. */
  public String issuer() {
    return issuer;
  }

  public URI jwksUri() {
    return URI.create(issuer + "/jwks");
  }

  /** The key id of the signing key (random per start). */
  public String keyId() {
    return requireNonNull(key.getKeyID(), "kid");
  }

  /**
   * A signed access token with these claims, issued now by this issuer: {@code typ} Bearer,
   * {@code iss}, {@code aud}, {@code azp}, {@code sub}, {@code preferred_username},
   * {@code realm_access.roles}, {@code acr}, {@code amr}, {@code auth_time}, {@code sid},
   * {@code scope}, {@code iat}, {@code exp} (now + lifetime) and a random {@code jti}; absent
   * optional fields are left out.
   */
  public String mint(Claims c) {
    return mint(c, null);
  }

  /**
   * As {@link #mint(Claims)}, bound to a client's DPoP key when {@code jkt} is given: {@code cnf.jkt}
   * its thumbprint and {@code typ} DPoP, as Keycloak issues them to a client that requires
   * DPoP-bound tokens.
   */
  public String mint(Claims c, @Nullable String jkt) {
    return mint(c, jkt, Map.of());
  }

  /** As {@link #mint(Claims, String)}, with the {@code extra} claims too (e.g. SMART's {@code fhirUser}). */
  public String mint(Claims c, @Nullable String jkt, Map<String, Object> extra) {
    return mint(c, jkt == null ? null : Map.of("jkt", jkt), jkt != null, extra);
  }

  /** As {@link #mint(Claims)}, bound to a client certificate (RFC 8705): {@code cnf.x5t#S256} its SHA-256 thumbprint. */
  public String mintCertificateBound(Claims c, String x5t) {
    return mint(c, Map.of("x5t#S256", requireNonNull(x5t, "x5t")), false, Map.of());
  }

  private String mint(Claims c, @Nullable Map<String, String> cnf, boolean dpop, Map<String, Object> extra) {
    requireNonNull(c, "c");
    Instant now = clock.instant();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .audience(c.audience())
        .subject(c.subject())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(c.lifetime())))
        .jwtID(UUID.randomUUID().toString())
        .claim("typ", dpop ? "DPoP" : "Bearer")
        .claim("azp", c.azp())
        .claim("scope", "openid profile");
    if (c.username() != null) {
      claims.claim("preferred_username", c.username());
    }
    if (!c.roles().isEmpty()) {
      Map<String, Object> realmAccess = new LinkedHashMap<>();
      realmAccess.put("roles", List.copyOf(c.roles()));
      claims.claim("realm_access", realmAccess);
    }
    if (c.acr() != null) {
      claims.claim("acr", c.acr());
    }
    if (!c.amr().isEmpty()) {
      claims.claim("amr", c.amr());
    }
    Instant authTime = c.authTime();
    if (authTime != null) {
      claims.claim("auth_time", authTime.getEpochSecond());
    }
    if (c.sid() != null) {
      claims.claim("sid", c.sid());
    }
    if (cnf != null) {
      claims.claim("cnf", cnf);
    }
    extra.forEach(claims::claim);
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
        claims.build());
    try {
      jwt.sign(new RSASSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign a demo token", e);
    }
    return jwt.serialize();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /**
   * What a demo token says. Build with {@link #builder(String, String, String)}; {@code authTime}
   * and {@code sid} default to "a login now" and a random session, so a token is a fresh MFA login
   * unless told otherwise.
   */
  public record Claims(
      String subject,
      @Nullable String username,
      Set<String> roles,
      @Nullable String acr,
      List<String> amr,
      @Nullable Instant authTime,
      @Nullable String sid,
      String audience,
      String azp,
      Duration lifetime) {

    public Claims {
      requireNonNull(subject, "subject");
      roles = Set.copyOf(new LinkedHashSet<>(roles));
      amr = List.copyOf(amr);
      requireNonNull(audience, "audience");
      requireNonNull(azp, "azp");
      requireNonNull(lifetime, "lifetime");
      if (lifetime.isNegative() || lifetime.isZero()) {
        throw new IllegalArgumentException("lifetime: " + lifetime + " (expected: > 0)");
      }
    }

    public static Builder builder(String subject, String audience, String azp) {
      return new Builder(subject, audience, azp);
    }

    /** Builds {@link Claims}; each field may be set once. Defaults: acr "1", amr [pwd, otp], 5 min lifetime. */
    public static final class Builder {
      private final String subject;
      private final String audience;
      private final String azp;
      private final Set<String> set = new LinkedHashSet<>();
      private @Nullable String username;
      private Set<String> roles = Set.of();
      private @Nullable String acr = "1";
      private List<String> amr = List.of("pwd", "otp");
      private @Nullable Instant authTime;
      private boolean authTimeSet;
      private @Nullable String sid = UUID.randomUUID().toString();
      private Duration lifetime = Duration.ofMinutes(5);

      private Builder(String subject, String audience, String azp) {
        this.subject = requireNonNull(subject, "subject");
        this.audience = requireNonNull(audience, "audience");
        this.azp = requireNonNull(azp, "azp");
      }

      private void once(String field) {
        if (!set.add(field)) {
          throw new IllegalStateException(field + ": set twice");
        }
      }

      public Builder username(@Nullable String value) {
        once("username");
        username = value;
        return this;
      }

      public Builder roles(Set<String> value) {
        once("roles");
        roles = Set.copyOf(value);
        return this;
      }

      public Builder acr(@Nullable String value) {
        once("acr");
        acr = value;
        return this;
      }

      public Builder amr(List<String> value) {
        once("amr");
        amr = List.copyOf(value);
        return this;
      }

      /** Null leaves {@code auth_time} out; unset means "now" at {@link #build()}. */
      public Builder authTime(@Nullable Instant value) {
        once("authTime");
        authTime = value;
        authTimeSet = true;
        return this;
      }

      /** Null leaves {@code sid} out (as in a client-credentials token). */
      public Builder sid(@Nullable String value) {
        once("sid");
        sid = value;
        return this;
      }

      public Builder lifetime(Duration value) {
        once("lifetime");
        lifetime = requireNonNull(value, "lifetime");
        return this;
      }

      public Claims build() {
        Instant at = authTimeSet ? authTime : Instant.now();
        return new Claims(subject, username, roles, acr, amr, at, sid, audience, azp, lifetime);
      }
    }
  }

  private static void respond(HttpExchange exchange, String path, String json) throws IOException {
    try {
      if (!exchange.getRequestURI().getPath().equals(path)) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } finally {
      exchange.close();
    }
  }

  private static RSAKey newKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048, new SecureRandom());
      KeyPair pair = generator.generateKeyPair();
      byte[] kid = new byte[12];
      new SecureRandom().nextBytes(kid);
      return new RSAKey.Builder((RSAPublicKey) pair.getPublic())
          .privateKey((RSAPrivateKey) pair.getPrivate())
          .keyID(Base64.getUrlEncoder().withoutPadding().encodeToString(kid))
          .keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.RS256)
          .build();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("RSA missing from the JDK", e);
    }
  }
}
