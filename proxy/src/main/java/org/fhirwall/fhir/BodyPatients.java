package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Whose record a written body makes, read before the EPR writes it ({@link FhirRequest.Written}): the patients its
 * Patient-compartment owner elements reference (HAPI FHIR's model, {@link PatientCompartment#ownerPaths}), and every
 * patient it references anywhere ({@code reference} members at any depth, contained resources and extensions too; in
 * a patch, every text that is a patient reference). Whatever fhirwall cannot read as a typed reference where an owner
 * stands makes the owners unknown: the caller refuses what it must confine to one patient. Thread-safe, free of I/O.
 */
final class BodyPatients {
  private static final String PATIENT = "Patient";
  /** {@code [base/]Type/id[/_history/v]}: the type and id of a literal reference. */
  private static final Pattern TYPED = Pattern.compile(
      "(?:[A-Za-z][A-Za-z0-9+.-]*://[^?#\\s]*/)?([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\\-.]{1,64})(?:/_history/[A-Za-z0-9\\-.]{1,64})?");

  private final PatientCompartment compartment;
  private final RequestPaths paths;

  BodyPatients(PatientCompartment compartment, RequestPaths paths) {
    this.compartment = requireNonNull(compartment, "compartment");
    this.paths = requireNonNull(paths, "paths");
  }

  /** A resource a create or update writes (a Patient's owner is its own id: unknown for a new one). */
  FhirRequest.Written inResource(JsonNode resource) {
    String type = resource.path("resourceType").asText();
    Set<String> owners = new LinkedHashSet<>();
    Set<String> named = new LinkedHashSet<>();
    boolean[] known = {true};
    if (type.equals(PATIENT)) {
      JsonNode id = resource.get("id");
      if (id != null && id.isTextual()) {
        owners.add(PATIENT + "/" + id.textValue());
      } else {
        known[0] = false;
      }
    }
    for (List<String> path : compartment.ownerPaths(type)) {
      at(resource, path, 0, node -> {
        JsonNode ref = node.get("reference");
        String key = ref != null && ref.isTextual() ? owner(ref.textValue()) : null;
        if (key == null) {
          known[0] = false; // an identifier alone, a urn:uuid:, a #contained or an unreadable URL: whose, fhirwall cannot tell
        } else if (key.startsWith(PATIENT + "/")) {
          owners.add(key);
        }
      });
    }
    JsonNode contained = resource.get("contained");
    if (contained != null) {
      for (JsonNode c : contained) {
        if (c.path("resourceType").asText().equals(PATIENT)) {
          known[0] = false; // a patient the write makes along, with no id of the EPR's
        }
      }
    }
    walk(resource, false, named);
    named.addAll(owners);
    return new FhirRequest.Written(owners, named, known[0]);
  }

  /** A JSON Patch or FHIRPath patch: the patients its values reference; it names no owner (the EPR's record is patched). */
  FhirRequest.Written inPatch(JsonNode patch) {
    Set<String> named = new LinkedHashSet<>();
    walk(patch, true, named);
    return new FhirRequest.Written(Set.of(), named, true);
  }

  /** Applies {@code found} to each object at {@code path} below {@code node} (arrays are transparent). */
  private static void at(JsonNode node, List<String> path, int step, java.util.function.Consumer<JsonNode> found) {
    if (node.isArray()) {
      for (JsonNode e : node) {
        at(e, path, step, found);
      }
      return;
    }
    if (step == path.size()) {
      if (node.isObject()) {
        found.accept(node);
      }
      return;
    }
    JsonNode next = node.get(path.get(step));
    if (next != null) {
      at(next, path, step + 1, found);
    }
  }

  private void walk(JsonNode node, boolean patch, Set<String> named) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode v = f.getValue();
        if (v.isTextual()) {
          if (patch || f.getKey().equals("reference")) {
            patient(v.textValue(), named);
          }
        } else {
          walk(v, patch, named);
        }
      }
    } else if (node.isArray()) {
      for (JsonNode e : node) {
        if (e.isTextual()) {
          if (patch) {
            patient(e.textValue(), named);
          }
        } else {
          walk(e, patch, named);
        }
      }
    }
  }

  private void patient(String text, Set<String> named) {
    String key = typed(text);
    if (key != null && key.startsWith(PATIENT + "/")) {
      named.add(key);
    }
  }

  /**
   * The {@code Type/id} an owner reference names: a literal one's, or the patient a conditional reference to Patient
   * pins by one {@code _id} of one value ({@code Patient?_id=7&...}); null when it is neither.
   */
  private @Nullable String owner(String reference) {
    int q = reference.indexOf('?');
    if (q < 0) {
      return typed(reference);
    }
    String path = reference.substring(0, q);
    if (!(path.equals(PATIENT) || path.endsWith("/" + PATIENT) || path.endsWith("/" + PATIENT + "/") || path.equals(PATIENT + "/"))) {
      return null;
    }
    String id = null;
    for (String pair : reference.substring(q + 1).split("&")) {
      String name = java.net.URLDecoder.decode(pair.substring(0, Math.max(0, pair.indexOf('='))), java.nio.charset.StandardCharsets.UTF_8);
      if (name.equals("_id")) {
        String value = java.net.URLDecoder.decode(pair.substring(pair.indexOf('=') + 1), java.nio.charset.StandardCharsets.UTF_8);
        if (id != null || !value.matches("[A-Za-z0-9\\-.]{1,64}")) {
          return null;
        }
        id = value;
      }
    }
    return id == null ? null : PATIENT + "/" + id;
  }

  /** {@code Type/id} of a literal reference to an R4 type, or null when it is none. */
  private @Nullable String typed(String reference) {
    Matcher m = TYPED.matcher(reference.trim());
    if (!m.matches() || !paths.isResourceType(m.group(1))) {
      return null;
    }
    return m.group(1) + "/" + m.group(2);
  }
}
