package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * SMART App Launch 2.x discovery ({@code GET [base]/.well-known/smart-configuration}), made from the
 * identity provider's OpenID discovery document: its issuer, authorization, token, introspection,
 * revocation and JWKS endpoints, the scopes and PKCE methods it supports, and the SMART
 * capabilities fhirwall serves. Nothing is invented: an endpoint the IdP does not publish is left
 * out. The IdP's document is fetched asynchronously and kept {@link #MAX_AGE}; when it cannot be
 * had, the answer is empty (the caller answers 503). Thread-safe.
 */
public final class SmartConfiguration {
  static final Duration MAX_AGE = Duration.ofMinutes(5);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What fhirwall supports of SMART App Launch: browser and confidential apps, launch contexts, v1 and v2 scopes. */
  static final List<String> CAPABILITIES = List.of("launch-standalone", "client-public", "client-confidential-symmetric",
      "client-confidential-asymmetric", "sso-openid-connect", "context-standalone-patient", "permission-patient",
      "permission-user", "permission-offline", "permission-v1", "permission-v2", "authorize-post");

  /** The endpoints a FHIR client needs, for the CapabilityStatement's {@code security} too. */
  public record Endpoints(String issuer, String authorize, String token, @Nullable String revoke,
      @Nullable String introspect, @Nullable String register, @Nullable String manage, String json) {}

  private final AuthSettings settings;
  private final IdpHttp idp;
  private final Clock clock;
  private volatile @Nullable Cached cached;

  private record Cached(Endpoints endpoints, Instant at) {}

  private SmartConfiguration(AuthSettings settings, IdpHttp idp, Clock clock) {
    this.settings = settings;
    this.idp = idp;
    this.clock = clock;
  }

  public static SmartConfiguration create(AuthSettings settings, HttpClient http, Executor background, Clock clock) {
    return new SmartConfiguration(requireNonNull(settings, "settings"), new IdpHttp(http, background),
        requireNonNull(clock, "clock"));
  }

  /** The SMART configuration and its endpoints, or empty when the IdP's discovery document cannot be read now. */
  public CompletionStage<Optional<Endpoints>> endpoints() {
    Cached c = cached;
    Instant now = clock.instant();
    if (c != null && c.at().plus(MAX_AGE).isAfter(now)) {
      return CompletableFuture.completedFuture(Optional.of(c.endpoints()));
    }
    return idp.getJson(settings.discoveryUrl()).thenApply(doc -> {
      Endpoints e = read(doc);
      cached = new Cached(e, now);
      return Optional.of(e);
    }).exceptionally(error -> {
      Cached stale = cached;
      return stale == null ? Optional.empty() : Optional.of(stale.endpoints());
    });
  }

  private Endpoints read(JsonNode doc) {
    String issuer = text(doc, "issuer");
    if (!settings.issuer().equals(issuer)) {
      throw new IllegalStateException("discovery document names issuer " + issuer + " (expected " + settings.issuer() + ")");
    }
    String authorize = requireNonNull(text(doc, "authorization_endpoint"), "authorization_endpoint");
    String token = requireNonNull(text(doc, "token_endpoint"), "token_endpoint");
    ObjectNode out = JSON.createObjectNode();
    out.put("issuer", issuer);
    copy(doc, "jwks_uri", out, "jwks_uri");
    out.put("authorization_endpoint", authorize);
    out.put("token_endpoint", token);
    ArrayNode grants = out.putArray("grant_types_supported");
    for (String g : List.of("authorization_code", "client_credentials", "refresh_token")) {
      if (contains(doc.get("grant_types_supported"), g)) {
        grants.add(g);
      }
    }
    copy(doc, "token_endpoint_auth_methods_supported", out, "token_endpoint_auth_methods_supported");
    copy(doc, "registration_endpoint", out, "registration_endpoint");
    copy(doc, "scopes_supported", out, "scopes_supported");
    ArrayNode responseTypes = out.putArray("response_types_supported");
    responseTypes.add("code");
    copy(doc, "introspection_endpoint", out, "introspection_endpoint");
    copy(doc, "revocation_endpoint", out, "revocation_endpoint");
    copy(doc, "end_session_endpoint", out, "end_session_endpoint");
    ArrayNode pkce = out.putArray("code_challenge_methods_supported");
    if (contains(doc.get("code_challenge_methods_supported"), "S256")) {
      pkce.add("S256");
    }
    copy(doc, "dpop_signing_alg_values_supported", out, "dpop_signing_alg_values_supported");
    ArrayNode caps = out.putArray("capabilities");
    CAPABILITIES.forEach(caps::add);
    String json;
    try {
      json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return new Endpoints(issuer, authorize, token, text(doc, "revocation_endpoint"), text(doc, "introspection_endpoint"),
        text(doc, "registration_endpoint"), null, json);
  }

  private static void copy(JsonNode from, String name, ObjectNode to, String as) {
    JsonNode v = from.get(name);
    if (v != null && (v.isTextual() || v.isArray())) {
      to.set(as, v.deepCopy());
    }
  }

  private static boolean contains(@Nullable JsonNode array, String value) {
    if (array == null || !array.isArray()) {
      return false;
    }
    for (JsonNode n : array) {
      if (value.equals(n.asText())) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable String text(JsonNode doc, String name) {
    JsonNode v = doc.get(name);
    return v != null && v.isTextual() ? v.textValue() : null;
  }
}
