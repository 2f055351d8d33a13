package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EntryEditsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"resourceType\":\"Bundle\",\"total\":42,\"type\":\"searchset\"}",
      "{\"total\":42,\"resourceType\":\"Bundle\"}",
      "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":42}",
      "{ \"resourceType\" : \"Bundle\" ,\n  \"total\" : 42 ,\n  \"link\" : [ {\"relation\":\"next\"} ] }",
      "{\"resourceType\":\"Bundle\",\"meta\":{\"total\":1},\"total\":42,\"entry\":[{\"total\":3}]}",
      "{\"total\":42}"})
  void theTopLevelTotalIsCutAndEverythingElseStays(String json) throws Exception {
    byte[] out = EntryEdits.withoutTopLevelTotal(json.getBytes(UTF_8));
    JsonNode before = JSON.readTree(json);
    JsonNode after = JSON.readTree(out);
    assertThat(after.has("total")).isFalse();
    ((com.fasterxml.jackson.databind.node.ObjectNode) before).remove("total");
    assertThat(after).isEqualTo(before);
  }

  @Test
  void aBodyWithoutTotalIsLeftAsItIs() {
    byte[] json = "{\"resourceType\":\"Bundle\",\"entry\":[{\"total\":3}]}".getBytes(UTF_8);
    assertThat(EntryEdits.withoutTopLevelTotal(json)).isSameAs(json);
  }

  static org.fhirwall.policy.RolePolicy patientsAndObservationsOnly() throws Exception {
    return new org.fhirwall.config.RolePolicyLoader(ca.uhn.fhir.context.FhirContext.forR4Cached().getResourceTypes())
        .parse("ward.yaml", """
            role: ward
            applies-to: {roles: [ward]}
            authentication: {amr: [otp]}
            interactions: [read]
            resource-types: [Patient, Observation]
            patient-limits: [{window: 1h, max: 10}]
            search: {max-count: 10}
            batch: {max-entries: 10}
            """);
  }

  static org.fhirwall.inspect.Inspection.Read read(String json, String... types) {
    return new org.fhirwall.inspect.Inspection.Read(json.getBytes(UTF_8), java.util.Set.of(), java.util.List.of(),
        java.util.Set.of(types), types.length, "Bundle");
  }

  static Plan plan(org.fhirwall.policy.RolePolicy role) {
    return new Plan(null, "Patient?x", null, "Patient", 1, "b", org.fhirwall.fhir.Format.JSON, false, role, false, true,
        false, false);
  }

  @Test
  void entriesOfTypesTheRoleMayNotReadLeaveASearchsetAndLoseTheirResourceInABatchResponse() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\"},\"response\":{\"status\":\"200 OK\"}},"
        + "{\"resource\":{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"DocumentReference\",\"id\":\"d1\"}},"
        + "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\"}}]},\"response\":{\"status\":\"200 OK\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"},\"response\":{\"status\":\"200 OK\"}}]}";
    var role = patientsAndObservationsOnly();
    JsonNode out = JSON.readTree(EntryEdits.apply(json.getBytes(UTF_8), plan(role),
        read(json, "Bundle", "Condition", "DocumentReference", "Observation", "Patient"), false));
    assertThat(out.path("entry")).hasSize(3);
    assertThat(out.path("entry").get(0).has("resource")).as("the batch entry stays, without its Condition").isFalse();
    assertThat(out.path("entry").get(0).path("response").path("status").asText()).isEqualTo("200 OK");
    JsonNode inner = out.path("entry").get(1).path("resource").path("entry");
    assertThat(inner).hasSize(1);
    assertThat(inner.get(0).path("resource").path("resourceType").asText()).isEqualTo("Observation");
    assertThat(out.path("entry").get(2).path("resource").path("id").asText()).isEqualTo("p1");
  }

  @Test
  void aResolvedCountKeepsOnlyItsTotal() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"},\"search\":{\"mode\":\"match\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p2\"}}]}";
    var role = patientsAndObservationsOnly();
    Plan count = new Plan(null, "Patient?x", null, "Patient", 1, "b", org.fhirwall.fhir.Format.JSON, false, role, true, true,
        false, false);
    JsonNode out = JSON.readTree(EntryEdits.apply(json.getBytes(UTF_8), count, read(json, "Bundle", "Patient"), false));
    assertThat(out.toString()).isEqualTo("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":2}");
  }
}
