package org.fhirwall.respond;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.fhirwall.auth.SmartConfiguration;
import org.junit.jupiter.api.Test;

/** The CapabilityStatement shown without a token: the EPR's API description and where to log in, nothing else. */
class PublicCapabilitiesTest {
  static final SmartConfiguration.Endpoints IDP = new SmartConfiguration.Endpoints("https://idp/realms/h",
      "https://idp/realms/h/auth", "https://idp/realms/h/token", "https://idp/realms/h/revoke", "https://idp/realms/h/introspect",
      null, null, "{}");

  @Test
  void onlyTheApiDescriptionPassesAndTheSmartSecurityIsAdded() {
    String epr = """
        {"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1",
         "format":["json","xml"],"text":{"div":"<div>Patient/42 John Doe</div>"},
         "contained":[{"resourceType":"Patient","id":"42"}],
         "implementation":{"description":"EPR","url":"http://epr.internal:8080/fhir"},
         "extension":[{"url":"x","valueReference":{"reference":"Patient/42"}}],
         "rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"}],
           "searchParam":[{"name":"family","type":"string","documentation":"see Patient/42"}]}]}]}
        """;
    String out = new String(PublicCapabilities.of(epr.getBytes(StandardCharsets.UTF_8), IDP, "https://fhir.hospital/fhir")
        .orElseThrow(), StandardCharsets.UTF_8);
    assertThat(out).doesNotContain("Patient/42").doesNotContain("John Doe").doesNotContain("epr.internal")
        .contains("\"fhirVersion\":\"4.0.1\"").contains("\"type\":\"Patient\"").contains("\"name\":\"family\"")
        .contains("SMART-on-FHIR").contains(PublicCapabilities.OAUTH_URIS)
        .contains("\"url\":\"authorize\",\"valueUri\":\"https://idp/realms/h/auth\"")
        .contains("\"url\":\"token\",\"valueUri\":\"https://idp/realms/h/token\"")
        .contains("https://fhir.hospital/fhir");
  }

  @Test
  void somethingElseThanACapabilityStatementIsNotShown() {
    assertThat(PublicCapabilities.of("{\"resourceType\":\"Patient\",\"id\":\"1\"}".getBytes(StandardCharsets.UTF_8), IDP, "x"))
        .isEmpty();
    assertThat(PublicCapabilities.of("not json".getBytes(StandardCharsets.UTF_8), IDP, "x")).isEmpty();
  }
}
