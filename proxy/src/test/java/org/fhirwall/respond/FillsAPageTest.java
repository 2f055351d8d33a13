package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.junit.jupiter.api.Test;

/**
 * Whether the page a count is resolved with is full: all a count from it can say is then "at least this many", and the
 * count is refused (once the page is charged). Who cannot tell, assumes it full.
 */
class FillsAPageTest {
  static final String EPR = "http://epr.internal:8080/fhir";
  static final FhirContext R4 = FhirContext.forR4Cached();

  final ResponseInspector inspector = new ResponseInspector(R4, PatientCompartment.from(R4),
      new InspectorSettings(List.of(EPR + "/"), 10_000_000, 100));

  Inspection.Read read(String json) {
    return (Inspection.Read) inspector.inspect(new ResponseBody(json.getBytes(UTF_8), "application/fhir+json", null));
  }

  static String bundle(String type, boolean next, String... entries) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"link\":[{\"relation\":"
        + "\"self\",\"url\":\"" + EPR + "/Patient\"}" + (next ? ",{\"relation\":\"next\",\"url\":\"" + EPR + "?_getpages=x\"}" : "")
        + "],\"entry\":[");
    for (int i = 0; i < entries.length; i++) {
      sb.append(i == 0 ? "" : ",").append(entries[i]);
    }
    return sb.append("]}").toString();
  }

  static String patient(String id, String mode) {
    return "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}" + (mode == null ? "" : ",\"search\":{\"mode\":\""
        + mode + "\"}") + "}";
  }

  @Test
  void aPageIsFullAtItsSizeOfMatchesOrWhenItLinksToMore() {
    assertThat(Responder.fillsAPage(read(bundle("searchset", false, patient("a", "match"), patient("b", null))), 3)).isFalse();
    assertThat(Responder.fillsAPage(read(bundle("searchset", false, patient("a", "match"), patient("b", null),
        patient("c", "match"))), 3)).isTrue();
    assertThat(Responder.fillsAPage(read(bundle("searchset", true, patient("a", "match"))), 3)).as("the EPR links on").isTrue();
    assertThat(Responder.fillsAPage(read(bundle("searchset", false)), 3)).isFalse();
  }

  @Test
  void includesAndOutcomesAreNoMatches() {
    assertThat(Responder.fillsAPage(read(bundle("searchset", false, patient("a", "match"), patient("b", "include"),
        "{\"resource\":{\"resourceType\":\"OperationOutcome\",\"issue\":[]},\"search\":{\"mode\":\"outcome\"}}")), 2))
        .isFalse();
  }

  @Test
  void aHistoryPageIsCountedLikeASearchPage() {
    assertThat(Responder.fillsAPage(read(bundle("history", false, patient("a", null))), 2)).isFalse();
    assertThat(Responder.fillsAPage(read(bundle("history", false, patient("a", null), patient("b", null))), 2)).isTrue();
    String withContained = "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\",\"contained\":[{\"resourceType\":"
        + "\"Patient\",\"id\":\"c\"}],\"status\":\"final\",\"code\":{\"text\":\"x\"}}}";
    assertThat(Responder.fillsAPage(read(bundle("history", false, patient("a", null), withContained)), 3))
        .as("two matches, four resources").isFalse();
  }

  @Test
  void whatCannotBeReadAsAPageIsFull() {
    assertThat(Responder.fillsAPage(read("{\"resourceType\":\"OperationOutcome\",\"issue\":[]}"), 3)).isTrue();
    assertThat(Responder.fillsAPage(read(bundle("collection", false, patient("a", null), patient("b", null),
        patient("c", null))), 3)).isTrue();
    assertThat(Responder.fillsAPage(read(bundle("collection", false, patient("a", null), patient("b", null))), 3))
        .as("two resources cannot be a page of three").isFalse();
  }
}
