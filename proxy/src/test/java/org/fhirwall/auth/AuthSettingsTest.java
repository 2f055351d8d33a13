package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuthSettingsTest {
  private static final String ISSUER = "https://idp.example/realms/hospital";

  @Test
  void defaultsFollowKeycloak() {
    AuthSettings s = AuthSettings.builder(ISSUER, List.of("fhirwall")).build();
    assertThat(s.discoveryUrl()).isEqualTo(URI.create(ISSUER + "/.well-known/openid-configuration"));
    assertThat(s.jwksUri()).isNull();
    assertThat(s.algorithms()).contains("RS256", "ES256", "PS256").doesNotContain("none", "HS256");
    assertThat(s.roleClaims()).containsExactly("realm_access.roles", "resource_access.<client>.roles");
    assertThat(s.usernameClaim()).isEqualTo("preferred_username");
    assertThat(s.clients()).isEmpty();
    assertThat(s.introspection()).isNull();
    assertThat(s.jwksRefreshMinInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.jwksMaxAge()).isEqualTo(Duration.ofHours(24));
    assertThat(s.maxTokenBytes()).isEqualTo(16 * 1024);
    assertThat(AuthSettings.defaultDiscoveryUrl(ISSUER + "/")).isEqualTo(s.discoveryUrl());
  }

  @Test
  void badValuesAreRejectedWithWhatWasExpected() {
    assertThatThrownBy(() -> AuthSettings.builder("idp.example", List.of("a")).build()).hasMessageContaining("issuer: idp.example");
    assertThatThrownBy(() -> AuthSettings.builder(ISSUER, List.of()).build()).hasMessageContaining("audiences");
    assertThatThrownBy(() -> AuthSettings.builder(ISSUER, List.of("a")).clockSkew(Duration.ofSeconds(-1)).build())
        .hasMessageContaining("clockSkew: PT-1S");
    assertThatThrownBy(() -> AuthSettings.builder(ISSUER, List.of("a")).jwksMaxAge(Duration.ofSeconds(1)).build())
        .hasMessageContaining("jwksMaxAge");
    assertThatThrownBy(() -> AuthSettings.builder(ISSUER, List.of("a")).roleClaims(List.of("a..b")).build())
        .hasMessageContaining("claim path");
    assertThatThrownBy(() -> AuthSettings.builder(ISSUER, List.of("a")).maxTokenBytes(10).build())
        .hasMessageContaining("maxTokenBytes: 10");
    assertThatThrownBy(() -> new AuthSettings.Introspection(URI.create("ftp://x/"), "c", "s", Duration.ZERO))
        .hasMessageContaining("introspection.endpoint");
  }

  @Test
  void aFieldSetTwiceIsAnError() {
    AuthSettings.Builder b = AuthSettings.builder(ISSUER, List.of("a")).clockSkew(Duration.ZERO);
    assertThatThrownBy(() -> b.clockSkew(Duration.ofSeconds(5))).hasMessage("clockSkew: set twice");
  }

  @Test
  void theIntrospectionSecretStaysOutOfToString() {
    AuthSettings.Introspection in = new AuthSettings.Introspection(null, "fhirwall", "s3cr3t", Duration.ofSeconds(30));
    assertThat(in.toString()).doesNotContain("s3cr3t");
    AuthSettings s = AuthSettings.builder(ISSUER, List.of("a")).introspection(in).build();
    assertThat(s.toString()).doesNotContain("s3cr3t");
  }
}
