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

  /** The byte walk cuts exactly what Jackson's parser cuts, on awkward bodies and on thousands of generated ones. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"\\u0074otal\":7,\"resourceType\":\"Bundle\"}",
      "{\"a\":\"}]{[\\\"total\\\":1,\",\"total\":2}",
      "{\"entry\":[{\"a\":[1,2,{\"b\":\"]\"}]}],\"total\":1e3}",
      "{\"x\":true,\"y\":null,\"z\":-1.5E-2,\"total\":0}",
      "{\"totals\":1,\"tota\":2,\"total\":3}",
      "{\"totals\":1}",
      "  {  }  ",
      "[{\"total\":1}]",
      "{\"a\":\"\\\\\",\"total\":5}",
      "{\"resourceType\":\"Bundle\"\t,\r\n\"total\"\t:\t9\t}"})
  void theByteWalkCutsWhatTheParserCuts(String json) {
    byte[] bytes = json.getBytes(UTF_8);
    assertThat(new String(EntryEdits.withoutTopLevelTotal(bytes), UTF_8))
        .isEqualTo(new String(EntryEdits.withoutTopLevelTotalParsed(bytes), UTF_8));
  }

  @Test
  void theByteWalkCutsWhatTheParserCutsOnGeneratedBodies() throws Exception {
    java.util.Random random = new java.util.Random(18);
    String[] names = {"resourceType", "total", "totals", "entry", "link", "meta", "t\"otal", "type"};
    for (int round = 0; round < 3000; round++) {
      com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
      int members = random.nextInt(6);
      for (int m = 0; m < members; m++) {
        o.set(names[random.nextInt(names.length)], value(random, 3));
      }
      String text = random.nextBoolean() ? JSON.writeValueAsString(o) : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o);
      byte[] bytes = text.getBytes(UTF_8);
      assertThat(new String(EntryEdits.withoutTopLevelTotal(bytes), UTF_8)).as(text)
          .isEqualTo(new String(EntryEdits.withoutTopLevelTotalParsed(bytes), UTF_8));
    }
  }

  private static JsonNode value(java.util.Random random, int depth) {
    var f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
    switch (depth == 0 ? random.nextInt(4) : random.nextInt(6)) {
      case 0: return f.numberNode(random.nextInt(2000) - 1000);
      case 1: return f.textNode(new String[] {"", "a\"b", "}]", "\\", "total", "é\u2028\n", "{\"total\":1}"}[random.nextInt(7)]);
      case 2: return random.nextBoolean() ? f.booleanNode(random.nextBoolean()) : f.nullNode();
      case 3: return f.numberNode(random.nextDouble() * 1e6);
      case 4: {
        var a = f.arrayNode();
        for (int i = random.nextInt(4); i > 0; i--) {
          a.add(value(random, depth - 1));
        }
        return a;
      }
      default: {
        var o = f.objectNode();
        for (int i = random.nextInt(4); i > 0; i--) {
          o.set(random.nextBoolean() ? "total" : "x" + i, value(random, depth - 1));
        }
        return o;
      }
    }
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
    return plan(role, null);
  }

  static Plan plan(org.fhirwall.policy.RolePolicy role, java.util.Set<String> scopedTypes) {
    return new Plan(null, "Patient?x", null, "Patient", 1, "b", org.fhirwall.fhir.Format.JSON, false, role, false, true,
        false, false, scopedTypes);
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
  void includedEntriesOfTypesTheAppsScopesDoNotGrantAreRemovedToo() throws Exception {
    // Adversarial sweep: a token scoped user/Observation.rs?category=laboratory searched
    // Observation?subject=Patient/p5&category=laboratory&_include=Observation:subject and got the Patient resource.
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\"},\"search\":{\"mode\":\"match\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p5\"},\"search\":{\"mode\":\"include\"}}]}";
    var role = patientsAndObservationsOnly();
    Plan scoped = plan(role, java.util.Set.of("Observation"));
    var read = read(json, "Bundle", "Observation", "Patient");
    assertThat(EntryEdits.hasForeignTypes(read, scoped)).isTrue();
    JsonNode out = JSON.readTree(EntryEdits.apply(json.getBytes(UTF_8), scoped, read, false));
    assertThat(out.path("entry")).hasSize(1);
    assertThat(out.path("entry").get(0).path("resource").path("resourceType").asText()).isEqualTo("Observation");
    assertThat(EntryEdits.hasForeignTypes(read, plan(role, java.util.Set.of("*")))).isFalse();
    assertThat(EntryEdits.hasForeignTypes(read, plan(role, null))).isFalse();
  }

  @Test
  void aResolvedCountKeepsOnlyItsTotal() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"},\"search\":{\"mode\":\"match\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p2\"}}]}";
    var role = patientsAndObservationsOnly();
    Plan count = new Plan(null, "Patient?x", null, "Patient", 1, "b", org.fhirwall.fhir.Format.JSON, false, role, true, true,
        false, false, null);
    JsonNode out = JSON.readTree(EntryEdits.apply(json.getBytes(UTF_8), count, read(json, "Bundle", "Patient"), false));
    assertThat(out.toString()).isEqualTo("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":2}");
  }

  /**
   * The shaping leaves a spliced body unread unless {@link EntryEdits#mayChange} says {@code apply} could
   * change it: whenever it says no, {@code apply} gives the very same array back, for every plan shape here.
   */
  @Test
  void applyLeavesTheBodyAsItIsWheneverMayChangeSaysSo() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":2,\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\"},\"search\":{\"mode\":\"match\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p5\"},\"search\":{\"mode\":\"include\"}}]}";
    var role = patientsAndObservationsOnly();
    var read = read(json, "Bundle", "Observation", "Patient");
    int unchanged = 0;
    for (boolean countOnly : new boolean[] {false, true}) {
      for (boolean releaseTotal : new boolean[] {false, true}) {
        for (boolean morePages : new boolean[] {false, true}) {
          for (java.util.Set<String> scoped : java.util.Arrays.asList(null, java.util.Set.of("Observation"))) {
            Plan plan = new Plan(null, "Patient?x", null, "Patient", 1, "b", org.fhirwall.fhir.Format.JSON, false, role,
                countOnly, releaseTotal, false, false, scoped);
            byte[] bytes = json.getBytes(UTF_8);
            byte[] out = EntryEdits.apply(bytes, plan, read, morePages);
            String shape = "countOnly " + countOnly + ", releaseTotal " + releaseTotal + ", morePages " + morePages + ", scoped " + scoped;
            if (!EntryEdits.mayChange(plan, read, morePages)) {
              assertThat(out).as(shape).isSameAs(bytes);
              unchanged++;
            } else {
              assertThat(out).as(shape + ": this body has a total and an entry of a type not granted").isNotEqualTo(bytes);
            }
          }
        }
      }
    }
    assertThat(unchanged).as("releaseTotal or no more pages, nothing foreign, no count").isEqualTo(3);
  }
}
