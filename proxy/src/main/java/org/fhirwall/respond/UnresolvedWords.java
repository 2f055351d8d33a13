package org.fhirwall.respond;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.OperationOutcomes;
import org.fhirwall.fhir.Refusal;

/**
 * fhirwall's own words, by status alone, for a refused write that carries conditional references, and for each
 * refused entry of a batch or transaction answer that carries some. HAPI FHIR resolves a resource's conditional
 * references in turn and names the first that matched nothing ("HAPI-1091: Invalid match URL \"...\" - No resources
 * match this search") or several: with a probe ({@code Patient?identifier=<MRN>&birthdate=<guess>}) before a reference
 * that matches nothing, which URL the EPR named told whether the probe matched, and nobody was charged (adversarial
 * sweep 9). The EPR's words have been read, and any patient they name charged, before they are replaced. Stateless and
 * thread-safe.
 */
final class UnresolvedWords {
  private static final ObjectMapper JSON = new ObjectMapper();

  private UnresolvedWords() {}

  /** The OperationOutcome that stands for the EPR's, in {@code format}. */
  static byte[] outcome(int status, Format format) {
    return OperationOutcomes.render(refusal(status), format);
  }

  /**
   * A batch or transaction answer whose refused entries (a {@code response.status} of 4xx or 5xx) carry fhirwall's
   * outcome instead of the EPR's.
   */
  static byte[] inEntries(byte[] bundle) throws IOException {
    JsonNode root = JSON.readTree(bundle);
    boolean changed = false;
    for (JsonNode entry : root.path("entry")) {
      JsonNode response = entry.path("response");
      String status = response.path("status").asText("").trim();
      if (response instanceof ObjectNode r && response.has("outcome") && (status.startsWith("4") || status.startsWith("5"))) {
        int code = status.length() >= 3 ? parse(status.substring(0, 3)) : 500;
        r.set("outcome", JSON.readTree(outcome(code, Format.JSON)));
        changed = true;
      }
    }
    return changed ? bytes(root) : bundle;
  }

  private static int parse(String code) {
    try {
      return Integer.parseInt(code);
    } catch (NumberFormatException e) {
      return 500;
    }
  }

  private static byte[] bytes(JsonNode root) throws JsonProcessingException {
    return JSON.writeValueAsBytes(root);
  }

  private static Refusal refusal(int status) {
    return Refusal.of(status, status == 404 ? IssueType.NOT_FOUND : IssueType.PROCESSING, "The EPR refused this write "
        + "(HTTP " + status + "); the words of a refused write that carries conditional references are not passed on: "
        + "they could tell which of its references matched. A 404 or 412 means a conditional reference (or the write's "
        + "criteria) matched no record or several");
  }
}
