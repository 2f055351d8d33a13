package org.fhirwall.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Ends a locked user's sessions at the identity provider, so a stolen session dies at the source,
 * not only at fhirwall: Keycloak's admin REST API ({@code POST {admin}/users/{id}/logout}), called
 * with fhirwall's own service account (client credentials; its service account needs only the
 * {@code realm-management} role {@code manage-users}). The user is the token's {@code sub}, which
 * is Keycloak's user id. Asynchronous; the token of the service account is cached until shortly
 * before it expires. A failed logout (no answer in time, a 5xx, a refused service token: the IdP
 * slow, restarting or overloaded) is tried again after each of {@link #RETRIES}, so a session left
 * open at the source does not outlive a moment's trouble; an answer that can never change (another
 * 4xx: the user is unknown) is not repeated. Never throws: the last failure completes the stage
 * exceptionally, for the caller to alert on (the lock at fhirwall stands either way). Thread-safe.
 */
public final class SessionTermination {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  /** The waits before the second and third tries of a logout. */
  static final List<Duration> RETRIES = List.of(Duration.ofSeconds(2), Duration.ofSeconds(10));

  /**
   * @param tokenEndpoint where fhirwall's service account gets its token
   * @param adminBase the realm's admin API, e.g. {@code https://sso/admin/realms/fhirwall}
   */
  public record Settings(URI tokenEndpoint, URI adminBase, String clientId, String clientSecret) {
    public Settings {
      requireNonNull(tokenEndpoint, "tokenEndpoint");
      requireNonNull(adminBase, "adminBase");
      requireNonNull(clientId, "clientId");
      requireNonNull(clientSecret, "clientSecret");
    }

    /** Keycloak's endpoints for the realm an issuer URL names ({@code https://sso/realms/NAME}). */
    public static Settings keycloak(String issuer, String clientId, String clientSecret) {
      String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
      int realms = base.lastIndexOf("/realms/");
      if (realms < 0) {
        throw new IllegalArgumentException("issuer: " + issuer + " (expected: a Keycloak realm URL, .../realms/NAME)");
      }
      return new Settings(URI.create(base + "/protocol/openid-connect/token"),
          URI.create(base.substring(0, realms) + "/admin" + base.substring(realms)), clientId, clientSecret);
    }

    @Override
    public String toString() {
      return "Settings[tokenEndpoint=" + tokenEndpoint + ", adminBase=" + adminBase + ", clientId=" + clientId + "]";
    }
  }

  private record Token(String value, Instant expires) {}

  private final Settings settings;
  private final HttpClient http;
  private final Executor background;
  private final Clock clock;
  private final AtomicReference<@Nullable Token> token = new AtomicReference<>();
  private final List<Duration> retries;

  public SessionTermination(Settings settings, HttpClient http, Executor background, Clock clock) {
    this(settings, http, background, clock, RETRIES);
  }

  SessionTermination(Settings settings, HttpClient http, Executor background, Clock clock, List<Duration> retries) {
    this.settings = requireNonNull(settings, "settings");
    this.http = requireNonNull(http, "http");
    this.background = requireNonNull(background, "background");
    this.clock = requireNonNull(clock, "clock");
    this.retries = List.copyOf(retries);
  }

  /** Logs the user {@code subject} out of every session at the IdP, trying again as the class comment says. */
  public CompletionStage<Void> endSessions(String subject) {
    return attempt(subject, 0);
  }

  private CompletionStage<Void> attempt(String subject, int tried) {
    return logout(subject).handle((ok, e) -> {
      if (e == null) {
        return CompletableFuture.<Void>completedFuture(null);
      }
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      if (tried >= retries.size() || cause instanceof Final) {
        return CompletableFuture.<Void>failedFuture(cause);
      }
      Executor later = CompletableFuture.delayedExecutor(retries.get(tried).toMillis(), TimeUnit.MILLISECONDS, background);
      return CompletableFuture.supplyAsync(() -> attempt(subject, tried + 1), later).thenCompose(s -> s);
    }).thenCompose(s -> s);
  }

  /** An answer of the IdP that another try would not change. */
  private static final class Final extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Final(String message) {
      super(message);
    }
  }

  private CompletionStage<Void> logout(String subject) {
    return token().thenCompose(t -> {
      URI logout = URI.create(settings.adminBase() + "/users/" + URLEncoder.encode(subject, UTF_8).replace("+", "%20") + "/logout");
      HttpRequest req = HttpRequest.newBuilder(logout).timeout(TIMEOUT).header("Authorization", "Bearer " + t)
          .POST(HttpRequest.BodyPublishers.noBody()).build();
      return http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).thenApplyAsync(r -> {
        if (r.statusCode() == 401 || r.statusCode() == 403) {
          token.set(null);
        }
        if (r.statusCode() / 100 != 2) {
          String message = "the IdP answered " + r.statusCode() + " to the logout of the user's sessions";
          boolean lasting = r.statusCode() / 100 == 4 && r.statusCode() != 401 && r.statusCode() != 403
              && r.statusCode() != 408 && r.statusCode() != 429;
          throw lasting ? new Final(message) : new IllegalStateException(message);
        }
        return null;
      }, background);
    });
  }

  private CompletableFuture<String> token() {
    Token cached = token.get();
    if (cached != null && clock.instant().isBefore(cached.expires())) {
      return CompletableFuture.completedFuture(cached.value());
    }
    String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(settings.clientId(), UTF_8) + ":"
        + URLEncoder.encode(settings.clientSecret(), UTF_8)).getBytes(UTF_8));
    HttpRequest req = HttpRequest.newBuilder(settings.tokenEndpoint()).timeout(TIMEOUT)
        .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", "Basic " + basic)
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).thenApplyAsync(r -> {
      if (r.statusCode() != 200) {
        throw new IllegalStateException("the IdP refused fhirwall's service account a token (" + r.statusCode() + ")");
      }
      try {
        JsonNode json = IdpHttp.STRICT_JSON.readValue(r.body());
        String value = json.path("access_token").asText("");
        if (value.isEmpty()) {
          throw new IllegalStateException("no access_token in the IdP's answer");
        }
        long lifetime = Math.max(0, json.path("expires_in").asLong(60) - 30);
        token.set(new Token(value, clock.instant().plusSeconds(lifetime)));
        return value;
      } catch (java.io.IOException e) {
        throw new IllegalStateException("unreadable token answer from the IdP", e);
      }
    }, background);
  }
}
