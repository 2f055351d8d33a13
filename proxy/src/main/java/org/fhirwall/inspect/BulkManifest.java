package org.fhirwall.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The completion manifest of a FHIR bulk export ({@code $export-poll-status} answering 200): not a
 * FHIR resource, but JSON whose {@code output[].url} and {@code error[].url} point at the EPR's
 * files. fhirwall rewrites them to its own base so the downloads pass through it (and are counted
 * like any other response); a manifest naming a file that is not a {@code Binary} of the EPR
 * ({@link ExportHandles#binaryOf}), or malformed, is not released.
 */
public final class BulkManifest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> FILE_LISTS = ExportHandles.FILE_LISTS;

  private BulkManifest() {}

  /** The manifest with every file URL moved from {@code upstreamBase} to {@code publicBase}; empty when unusable. */
  public static Optional<byte[]> rewrite(byte[] json, String upstreamBase, String publicBase) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (!(root instanceof ObjectNode manifest) || !manifest.path("output").isArray()) {
      return Optional.empty();
    }
    for (String list : FILE_LISTS) {
      JsonNode files = manifest.get(list);
      if (files == null) {
        continue;
      }
      if (!files.isArray()) {
        return Optional.empty();
      }
      for (JsonNode f : files) {
        if (!(f instanceof ObjectNode file) || !file.path("url").isTextual()) {
          return Optional.empty();
        }
        String url = file.get("url").asText();
        if (ExportHandles.binaryOf(url, upstreamBase).isEmpty()) {
          // A file the proxy cannot see the way to would bypass the count, and one that is not a Binary
          // of the EPR could not be bound to the account that asked for it: never hand it out.
          return Optional.empty();
        }
        file.set("url", TextNode.valueOf(publicBase + url.substring(upstreamBase.length())));
      }
    }
    JsonNode request = manifest.get("request");
    if (request != null && request.isTextual() && request.asText().startsWith(upstreamBase)) {
      manifest.set("request", TextNode.valueOf(publicBase + request.asText().substring(upstreamBase.length())));
    }
    try {
      return Optional.of(JSON.writeValueAsBytes(manifest));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
