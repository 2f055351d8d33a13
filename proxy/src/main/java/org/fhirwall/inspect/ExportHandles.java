package org.fhirwall.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The handles a bulk export hands out, read from the EPR's answers: the job its kick-off's status
 * URL names, and the {@code Binary} files its manifest lists. fhirwall binds them to the account
 * that kicked the export off (see {@code org.fhirwall.policy.ExportOwnership}), so only their plain
 * forms are read, the forms HAPI FHIR writes: a status URL {@code BASE/$export-poll-status?_jobId=ID}
 * and file URLs {@code BASE/Binary/ID}. Anything else names nothing (and what names nothing is
 * withheld: fhirwall hands out no handle it could not bind). Stateless.
 */
public final class ExportHandles {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A job id as a status URL carries it: characters that need no escaping, so the client's poll names the same. */
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
  /** A FHIR id. */
  private static final Pattern BINARY_ID = Pattern.compile("[A-Za-z0-9.-]{1,64}");
  static final List<String> FILE_LISTS = List.of("output", "error", "deleted");
  private static final String POLL = "/$export-poll-status?";

  private ExportHandles() {}

  /** The job of a status URL {@code base/$export-poll-status?...} naming one {@code _jobId}; empty for any other. */
  public static Optional<String> jobOf(String statusUrl, String base) {
    if (!statusUrl.startsWith(base + POLL)) {
      return Optional.empty();
    }
    String id = null;
    for (String pair : statusUrl.substring(base.length() + POLL.length()).split("&", -1)) {
      if (pair.startsWith("_jobId=")) {
        if (id != null) {
          return Optional.empty();
        }
        id = pair.substring("_jobId=".length());
      }
    }
    return id != null && JOB_ID.matcher(id).matches() ? Optional.of(id) : Optional.empty();
  }

  /** The id of a file URL {@code base/Binary/ID}; empty for any other. */
  public static Optional<String> binaryOf(String fileUrl, String base) {
    String prefix = base + "/Binary/";
    if (!fileUrl.startsWith(prefix)) {
      return Optional.empty();
    }
    String id = fileUrl.substring(prefix.length());
    return BINARY_ID.matcher(id).matches() ? Optional.of(id) : Optional.empty();
  }

  /**
   * The Binary ids of every file a manifest lists ({@code output}, {@code error}, {@code deleted}),
   * in order; empty when the manifest is unreadable or any file is not a {@code base/Binary/ID}.
   */
  public static Optional<List<String>> filesOf(byte[] manifest, String base) {
    JsonNode root;
    try {
      root = JSON.readTree(manifest);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (root == null || !root.isObject()) {
      return Optional.empty();
    }
    List<String> ids = new ArrayList<>();
    for (String list : FILE_LISTS) {
      JsonNode files = root.get(list);
      if (files == null) {
        continue;
      }
      if (!files.isArray()) {
        return Optional.empty();
      }
      for (JsonNode f : files) {
        Optional<String> id = f.path("url").isTextual() ? binaryOf(f.get("url").asText(), base) : Optional.empty();
        if (id.isEmpty()) {
          return Optional.empty();
        }
        ids.add(id.get());
      }
    }
    return Optional.of(ids);
  }
}
