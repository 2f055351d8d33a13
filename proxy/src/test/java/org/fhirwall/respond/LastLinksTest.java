package org.fhirwall.respond;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LastLinksTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "[L]|[]",
      "[S,L]|[S]",
      "[L,S]|[S]",
      "[S,L,N]|[S,N]",
      "[S,L,L]|[S]",
      "[L, L ,S]|[S]",
      "[S , L]|[S]",
  })
  void everyLastLinkGoesWithOneSeparator(String links, String expected) {
    String json = "{\"resourceType\":\"Bundle\",\"link\":" + expand(links) + ",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Bundle\",\"link\":" + expand(links) + "}}]}";
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    String out = new String(JsonSplicer.splice(bytes, List.of(), LastLinks.cuts(bytes), null), StandardCharsets.UTF_8);
    assertThat(out).isEqualTo("{\"resourceType\":\"Bundle\",\"link\":" + expand(expected) + ",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Bundle\",\"link\":" + expand(expected) + "}}]}");
  }

  private static String expand(String shape) {
    return shape.replace("S", "{\"relation\":\"self\",\"url\":\"s\"}")
        .replace("N", "{\"relation\":\"next\",\"url\":\"n\"}")
        .replace("L", "{\"url\":\"l\",\"relation\":\"last\"}");
  }
}
