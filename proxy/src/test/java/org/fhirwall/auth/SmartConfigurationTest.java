package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SMART discovery made from the IdP's OpenID discovery document: its endpoints, nothing invented. */
class SmartConfigurationTest {
  private final AuthFixture f = new AuthFixture();

  @AfterEach
  void close() {
    f.close();
  }

  @Test
  void theIdpsEndpointsScopesAndPkceMethodsAreServedWithFhirwallsCapabilities() throws Exception {
    SmartConfiguration smart = SmartConfiguration.create(f.settings().build(), f.http, f.background, f.clock);
    SmartConfiguration.Endpoints e = smart.endpoints().toCompletableFuture().join().orElseThrow();
    JsonNode doc = new ObjectMapper().readTree(e.json());
    assertThat(doc.path("issuer").asText()).isEqualTo(f.idp.issuer());
    assertThat(doc.path("authorization_endpoint").asText()).isEqualTo(f.idp.issuer() + "/protocol/openid-connect/auth");
    assertThat(doc.path("token_endpoint").asText()).isEqualTo(f.idp.issuer() + "/protocol/openid-connect/token");
    assertThat(doc.path("revocation_endpoint").asText()).endsWith("/revoke");
    assertThat(doc.has("registration_endpoint")).as("not published, not invented").isFalse();
    assertThat(doc.path("code_challenge_methods_supported").toString()).isEqualTo("[\"S256\"]");
    assertThat(doc.path("grant_types_supported").toString()).doesNotContain("implicit").doesNotContain("password");
    assertThat(doc.path("scopes_supported").toString()).contains("patient/*.rs");
    assertThat(doc.path("capabilities").toString()).contains("launch-standalone").contains("permission-v2");
    // kept for a while: one fetch
    smart.endpoints().toCompletableFuture().join();
    assertThat(f.idp.discoveryFetches.get()).isEqualTo(1);
    f.clock.advance(Duration.ofMinutes(6));
    smart.endpoints().toCompletableFuture().join();
    assertThat(f.idp.discoveryFetches.get()).isEqualTo(2);
  }

  @Test
  void aDocumentNamingAnotherIssuerGivesNothing() {
    f.idp.discoveryIssuer("https://evil.example/realms/test");
    SmartConfiguration smart = SmartConfiguration.create(f.settings().build(), f.http, f.background, f.clock);
    assertThat(smart.endpoints().toCompletableFuture().join()).isEmpty();
  }
}
