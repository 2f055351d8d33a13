package org.fhirwall.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Base64;
import java.util.Optional;

/**
 * A {@code Binary} resource's own content. fhirwall always reads Binary as FHIR JSON from the EPR
 * (so its content is inspected and counted); a client that asked for the raw content (a bulk
 * export file as NDJSON) gets it unwrapped, as a FHIR server would serve it.
 */
public final class BinaryContent {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The content type and bytes of a Binary. */
  public record Content(String contentType, byte[] bytes) {}

  private BinaryContent() {}

  public static Optional<Content> of(byte[] binaryJson) {
    try {
      JsonNode root = JSON.readTree(binaryJson);
      if (root == null || !"Binary".equals(root.path("resourceType").asText()) || !root.path("contentType").isTextual()) {
        return Optional.empty();
      }
      byte[] data = root.path("data").isTextual() ? Base64.getDecoder().decode(root.get("data").asText()) : new byte[0];
      return Optional.of(new Content(root.get("contentType").asText(), data));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
