package org.fhirwall.it.keycloak;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * What a token endpoint returned: the access token and, when issued, the refresh and ID tokens.
 * {@link #accessClaims()} decodes the access token's payload without checking its signature (tests
 * look at what Keycloak put in it; verifying is fhirwall's job).
 */
public record TokenSet(String accessToken, @Nullable String refreshToken, @Nullable String idToken) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public TokenSet {
    requireNonNull(accessToken, "accessToken");
  }

  /** The access token's JWT payload. */
  public JsonNode accessClaims() {
    return payload(accessToken);
  }

  /** The ID token's JWT payload; fails when none was issued. */
  public JsonNode idClaims() {
    if (idToken == null) {
      throw new IllegalStateException("no id_token was issued (scope openid not requested?)");
    }
    return payload(idToken);
  }

  /** Decodes the payload (second part) of a compact JWS. */
  public static JsonNode payload(String jwt) {
    String[] parts = jwt.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("JWT: " + parts.length + " parts (expected: 3)");
    }
    try {
      return JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    } catch (IOException e) {
      throw new UncheckedIOException("JWT payload is not JSON", e);
    }
  }

  static TokenSet fromResponse(JsonNode body) {
    JsonNode access = body.get("access_token");
    if (access == null || !access.isTextual()) {
      throw new IllegalStateException("token response without access_token: " + body);
    }
    return new TokenSet(access.asText(), text(body, "refresh_token"), text(body, "id_token"));
  }

  private static @Nullable String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node == null || node.isNull() ? null : node.asText();
  }
}
