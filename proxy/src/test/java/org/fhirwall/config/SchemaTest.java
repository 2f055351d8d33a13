package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.fhirwall.fhir.Interaction;
import org.junit.jupiter.api.Test;

/** The schemas are consistent with themselves and with the code that reads what they allow. */
class SchemaTest {
  static final ObjectMapper JSON = new ObjectMapper();

  private static List<ConfigProblem> problemsOf(Schema schema, JsonNode instance) {
    Problems problems = new Problems();
    Locations where = new Locations(Location.wholeFile("defaults"));
    schema.validate(instance, where, problems);
    schema.checkBounds(instance, where, problems);
    return problems.all();
  }

  @Test
  void everyDeploymentDefaultPassesTheDeploymentSchema() throws Exception {
    ObjectNode d = (ObjectNode) JSON.readTree("""
        {"upstream": {"url": "http://epr/fhir"}, "identity": {"issuer": "https://idp/r", "audience": ["a"],
         "introspection": {"client-id": "c"}}, "policies": "roles", "tls": {"certificate": "c", "private-key": "k"},
         "audit": {}, "alerts": {}}
        """);
    Schema.DEPLOYMENT.applyDefaults(d, null);
    assertThat(problemsOf(Schema.DEPLOYMENT, d)).isEmpty();
    assertThat(d.path("limits").path("max-request-body").asText()).isEqualTo("2MiB");
    assertThat(d.path("identity").path("introspection").path("cache").asText()).isEqualTo("30s");
  }

  @Test
  void everyRoleDefaultPassesTheRoleSchemaForUsersAndServices() throws Exception {
    for (String kind : List.of("user", "service")) {
      ObjectNode r = (ObjectNode) JSON.readTree("""
          {"role": "r", "applies-to": {"roles": ["r"], "principal": "%s"}, "interactions": ["read"], "resource-types": ["*"],
           "patient-limits": [{"window": "1h", "max": 10}], "break-glass": {"patient-limits": [{"window": "1h", "max": 20}]}}
          """.formatted(kind));
      Schema.ROLE.applyDefaults(r, kind);
      assertThat(problemsOf(Schema.ROLE, r)).as(kind).isEmpty();
      assertThat(r.path("search").path("unselective").asText()).isEqualTo(kind.equals("user") ? "refuse" : "cap");
      assertThat(r.path("rate").path("concurrent").asInt()).isEqualTo(kind.equals("user") ? 8 : 16);
    }
  }

  @Test
  void theInteractionsARoleMayListAreTheInteractionsTheRequestStageKnows() {
    List<String> listed = new ArrayList<>();
    Schema.ROLE.effective(Schema.ROLE.items(Schema.ROLE.keySchema(List.of("interactions")))).path("enum")
        .forEach(v -> listed.add(v.asText()));
    assertThat(listed).containsExactlyInAnyOrderElementsOf(Stream.of(Interaction.values())
        .filter(i -> i != Interaction.PAGE).map(Interaction::code).toList());
  }

  @Test
  void everyKeyAnOperatorCanSetIsDescribedAndEveryFlagIsUnique() {
    for (Schema schema : List.of(Schema.DEPLOYMENT, Schema.ROLE)) {
      for (Schema.Key k : schema.scalarKeys()) {
        assertThat(schema.effective(k.schema()).path("description").asText()).as(schema.name() + " " + k.display()).isNotBlank();
      }
    }
    assertThat(Schema.DEPLOYMENT.flags()).doesNotHaveDuplicates();
  }
}
