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
}
