package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.net.http.HttpClient;
import java.time.Clock;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies OAuth 2.0 JWT access tokens (RFC 6750 bearer, RFC 9068 shape, Keycloak's claims by
 * default) against the issuer's published keys, optionally asks the issuer whether they are still
 * active (RFC 7662), and maps them to a {@link Principal}.
 *
 * <p>Order of checks, cheapest first: the {@code Authorization} header (only there: a token in a
 * query parameter or a form is never looked at), size, JWS compact form, header (an accepted
 * asymmetric {@code alg}; no {@code jku}, {@code x5u}, {@code jwk}, {@code x5c}, {@code crit},
 * {@code cty}), claims ({@code typ}, {@code iss}, {@code aud}, {@code azp}, {@code sub},
 * {@code exp}, {@code nbf}, {@code iat}; see {@link TokenReader}), then the signature with a key
 * of the issuer's JWKS, then introspection when configured. Every failure is a 401 with an RFC 6750
 * {@code WWW-Authenticate} challenge ({@code error="invalid_token"}; none when the header is
 * missing or another scheme), except that a token which cannot be checked now (no usable key,
 * introspection unreachable) gets a 503 with {@code Retry-After}. Nothing unverified is accepted.
 *
 * <p>Threads: {@link #authenticate} never blocks. A token whose key is cached (and, with
 * introspection, whose answer is cached) is answered by an already completed stage on the caller's
 * thread; otherwise the stage completes on {@code background} (or the HTTP client's executor) once
 * keys or introspection arrive. Token times ({@code exp}, {@code nbf}) are judged against the
 * {@code now} passed in; cache ages (JWKS, introspection) against the {@code clock}. Thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {
  private static final Logger log = LoggerFactory.getLogger(JwtAuthenticator.class);
  private static final Duration INTROSPECTION_RETRY = Duration.ofSeconds(5);
  /** How long a fully verified token is remembered (keys rotated out of the JWKS stop working after this). */
  static final Duration VERIFIED_FOR = Duration.ofSeconds(60);

  private final TokenReader reader;
  private final PrincipalMapper mapper;
  private final JwksSource keys;
  private final @Nullable Introspector introspector;
  private final Duration clockSkew;
  private final DpopProofs proofs;
  private final @Nullable DpopNonces nonces;
  private final ReplayCache replay;
  /**
   * Tokens already verified in full (signature, claims, mapping), for a short while: a client
   * sends the same token with every request, and verifying it again each time is most of the
   * cost of authentication. Time-dependent checks ({@code exp}) and introspection still run on
   * every request. Weighed by token length, so a flood of distinct tokens cannot exhaust memory.
   */
  private final Cache<TokenKey, Principal> verified = Caffeine.newBuilder()
      .maximumWeight(8L << 20)
      .weigher((TokenKey key, Principal p) -> key.token().length())
      .expireAfterWrite(VERIFIED_FOR)
      .executor(Runnable::run) // upkeep in the caller: no pool hand-off on the request's way
      .build();

  /**
   * A key of the verified tokens, hashed over the token's last 32 characters (its signature) rather
   * than all of it: each request brings a new string of a kilobyte or more, whose full hash was 2 %
   * of a read's CPU. Only verified tokens are ever stored, and their signatures are not the
   * sender's to choose, so the shorter hash spreads as well; equality still compares the whole token.
   */
  private record TokenKey(String token) {
    @Override
    public int hashCode() {
      int h = token.length();
      for (int i = Math.max(0, token.length() - 32); i < token.length(); i++) {
        h = 31 * h + token.charAt(i);
      }
      return h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TokenKey k && k.token.equals(token);
    }
  }

  private JwtAuthenticator(AuthSettings settings, Binding binding, HttpClient http, Executor background, Clock clock) {
    IdpHttp idp = new IdpHttp(http, background);
    this.reader = new TokenReader(settings);
    this.mapper = new PrincipalMapper(settings);
    this.keys = new JwksSource(settings, idp, clock);
    AuthSettings.Introspection in = settings.introspection();
    this.introspector = in == null ? null : new Introspector(in, idp, keys, background, clock);
    this.clockSkew = settings.clockSkew();
    this.nonces = binding.dpop().nonces() ? new DpopNonces(requireNonNull(binding.nonceSecret(), "nonceSecret"),
        binding.dpop().nonceLifetime()) : null;
    this.proofs = new DpopProofs(settings.algorithms(), binding.dpop(), clockSkew, nonces);
    this.replay = binding.replay();
  }

  /**
   * How sender-constrained tokens are checked: DPoP proof rules, where used proofs are remembered
   * (shared by every replica in a cluster), and the secret server nonces are made with (shared
   * too; required when nonces are on).
   */
  public record Binding(DpopSettings dpop, ReplayCache replay, byte @Nullable [] nonceSecret) {
    public Binding {
      requireNonNull(dpop, "dpop");
      requireNonNull(replay, "replay");
      if (dpop.nonces() && (nonceSecret == null || nonceSecret.length < 16)) {
        throw new IllegalArgumentException("nonceSecret: missing or under 16 bytes (expected: with nonces on)");
      }
      nonceSecret = nonceSecret == null ? null : nonceSecret.clone();
    }

    /** Default proof rules, no nonces, proofs remembered in this process only. */
    public static Binding inProcess() {
      return new Binding(DpopSettings.DEFAULTS, new InProcessReplayCache(), null);
    }
  }

  /**
   * @param http the client for discovery, JWKS and introspection calls (its connect timeout and
   *     executor are the caller's choice; requests time out after 10 s)
   * @param background where HTTP answers are parsed and waiting stages complete
   * @param clock the time for key and introspection cache ages
   */
  public static JwtAuthenticator create(AuthSettings settings, HttpClient http, Executor background, Clock clock) {
    return create(settings, Binding.inProcess(), http, background, clock);
  }

  /** As {@link #create(AuthSettings, HttpClient, Executor, Clock)}, with the sender-constrained token rules. */
  public static JwtAuthenticator create(AuthSettings settings, Binding binding, HttpClient http, Executor background,
      Clock clock) {
    requireNonNull(settings, "settings");
    requireNonNull(binding, "binding");
    requireNonNull(http, "http");
    requireNonNull(background, "background");
    requireNonNull(clock, "clock");
    return new JwtAuthenticator(settings, binding, http, background, clock);
  }

  @Override
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    io.micrometer.core.instrument.FunctionCounter.builder("fhirwall.idp.key.refreshes", keys, JwksSource::refreshes)
        .description("Fetches of the issuer's signing keys").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("fhirwall.idp.key.refresh.failures", keys, JwksSource::failedRefreshes)
        .description("Fetches of the issuer's signing keys that failed").register(registry);
    io.micrometer.core.instrument.Gauge.builder("fhirwall.idp.keys.usable", this, a -> a.canVerify() ? 1 : 0)
        .description("1 while signing keys young enough to verify tokens are cached").register(registry);
  }

  @Override
  public void prepare(Instant now) {
    warmUp(now);
  }

  /**
   * Fetches the issuer's keys now, so the first request need not wait. Completes (never
   * exceptionally) with whether usable keys are cached afterwards.
   */
  public CompletionStage<Boolean> warmUp(Instant now) {
    CompletableFuture<Void> running = keys.refresh(now);
    if (running == null) {
      return CompletableFuture.completedFuture(keys.hasUsableKeys());
    }
    return running.thenApply(ignored -> keys.hasUsableKeys());
  }

  /** Whether keys young enough to verify tokens are cached (for readiness checks). */
  @Override
  public boolean canVerify() {
    return keys.hasUsableKeys();
  }

  @Override
  public CompletionStage<AuthOutcome> authenticate(@Nullable String authorization, Instant now) {
    return authenticate(Credentials.bearer(authorization), now);
  }

  @Override
  public CompletionStage<AuthOutcome> authenticate(Credentials credentials, Instant now) {
    requireNonNull(credentials, "credentials");
    requireNonNull(now, "now");
    String authorization = credentials.authorization();
    String presented = authorization == null ? null : TokenReader.tokenOf(authorization.strip());
    if (presented != null) {
      String token = presented.stripLeading();
      Principal known = verified.getIfPresent(new TokenKey(token));
      if (known != null) {
        if (known.expiresAt().plus(clockSkew).isAfter(now)) {
          return bound(credentials, TokenReader.schemeOf(authorization.strip()), token, known, now);
        }
        verified.invalidate(new TokenKey(token));
      }
    }
    TokenReader.Unverified token;
    try {
      token = reader.read(authorization, now);
    } catch (TokenReader.Rejected r) {
      return refused(r.refusal());
    } catch (RuntimeException e) {
      log.warn("Unexpected error reading a token; refused", e);
      return refused(Challenges.invalidToken("token could not be read"));
    }
    return keys.find(token.kid(), token.alg())
        .thenCompose(lookup -> verified(token, lookup, now))
        .thenCompose(outcome -> outcome instanceof AuthOutcome.Authenticated a
            ? bound(credentials, token.scheme(), token.token(), a.principal(), now)
            : CompletableFuture.completedFuture(outcome))
        .exceptionally(e -> {
          log.warn("Unexpected error verifying a token; refused", e);
          return new AuthOutcome.Refused(Challenges.invalidToken("token could not be verified"));
        });
  }

  /**
   * Whether the request proves it holds the key a verified token is bound to (RFC 9449, RFC 8705),
   * then whether the token is still active. A token bound to nothing passes under the Bearer
   * scheme only; a DPoP-bound token passes only under the DPoP scheme with a valid, unused proof;
   * a certificate-bound token only over a connection authenticated with that certificate.
   */
  private CompletableFuture<AuthOutcome> bound(Credentials c, TokenReader.@Nullable Scheme scheme, String token, Principal p,
      Instant now) {
    Principal.Confirmation cnf = p.confirmation();
    if (cnf.x5t() != null && !cnf.x5t().equals(c.clientCertificate())) {
      return refused(Challenges.invalidToken(c.clientCertificate() == null
          ? "the token is bound to a client certificate (cnf.x5t#S256); it is accepted only over TLS with that certificate"
          : "the token is bound to another client certificate than this connection's"));
    }
    String jkt = cnf.jkt();
    if (jkt == null) {
      if (scheme == TokenReader.Scheme.DPOP) {
        return refused(Challenges.invalidDpopToken("the token is not bound to a DPoP key (no cnf.jkt)", proofs.algorithms()));
      }
      return active(token, p);
    }
    if (scheme != TokenReader.Scheme.DPOP) {
      return refused(Challenges.invalidDpopProof("a DPoP-bound token is accepted only as 'Authorization: DPoP <token>' "
          + "with a DPoP proof", proofs.algorithms()));
    }
    DpopProofs.Check check = proofs.check(c.dpopProofs(), c.method(), c.url(), token, jkt, now);
    if (check instanceof DpopProofs.Check.Invalid invalid) {
      return refused(Challenges.invalidDpopProof(invalid.why(), proofs.algorithms()));
    }
    if (check instanceof DpopProofs.Check.NonceNeeded needed) {
      return refused(Challenges.useDpopNonce(needed.why(), proofs.algorithms(), requireNonNull(nonces, "nonces").issue(now)));
    }
    String jti = ((DpopProofs.Check.Valid) check).jti();
    return replay.seenOnce("dpop:" + jkt + ":" + PrincipalMapper.sha256(jti), proofs.replayWindow(), now)
        .toCompletableFuture()
        .thenCompose(first -> first ? active(token, p)
            : refused(Challenges.invalidDpopProof("DPoP proof replayed (its jti was used before); send a fresh proof",
                proofs.algorithms())))
        .exceptionally(e -> {
          log.warn("DPoP replay cache unavailable; proof refused: {}", e.toString());
          return new AuthOutcome.Refused(Challenges.unavailable("used DPoP proofs cannot be checked now", INTROSPECTION_RETRY));
        });
  }

  private CompletableFuture<AuthOutcome> verified(TokenReader.Unverified token, JwksSource.Lookup lookup, Instant now) {
    if (lookup instanceof JwksSource.Lookup.Unavailable u) {
      return refused(Challenges.unavailable("the issuer's signing keys are not available", u.retryAfter()));
    }
    if (lookup instanceof JwksSource.Lookup.Unknown) {
      return refused(Challenges.invalidToken(token.kid() == null
          ? "no signing key of the issuer fits the token"
          : "the token's signing key (kid) is not one of the issuer's keys"));
    }
    JwksSource.Lookup.Found found = (JwksSource.Lookup.Found) lookup;
    boolean valid = false;
    for (VerificationKey key : found.keys()) {
      if (key.verify(token.alg(), token.signingInput(), token.signature())) {
        valid = true;
        break;
      }
    }
    if (!valid) {
      return refused(Challenges.invalidToken("signature verification failed"));
    }
    Principal principal;
    boolean dropped;
    try {
      principal = mapper.map(token, now);
      dropped = PrincipalMapper.droppedAuthTime(token, principal);
    } catch (TokenReader.Rejected r) {
      return refused(r.refusal());
    }
    if (!dropped) { // else mapped again on its next use: the auth_time may be a past one by then
      verified.put(new TokenKey(token.token()), principal);
    }
    return CompletableFuture.completedFuture(new AuthOutcome.Authenticated(principal));
  }

  /** With introspection configured, whether the IdP still holds the token active; else authenticated. */
  private CompletableFuture<AuthOutcome> active(String token, Principal principal) {
    Introspector in = introspector;
    if (in == null) {
      return CompletableFuture.completedFuture(new AuthOutcome.Authenticated(principal));
    }
    return in.isActive(token).handle((active, error) -> {
      if (error != null) {
        log.debug("Token refused, introspection failed: {}", error.toString());
        return new AuthOutcome.Refused(Challenges.unavailable("the token's status cannot be checked with the issuer",
            INTROSPECTION_RETRY));
      }
      return active
          ? new AuthOutcome.Authenticated(principal)
          : new AuthOutcome.Refused(Challenges.invalidToken("token is no longer active"));
    });
  }

  private static CompletableFuture<AuthOutcome> refused(Refusal refusal) {
    return CompletableFuture.completedFuture(new AuthOutcome.Refused(refusal));
  }
}
