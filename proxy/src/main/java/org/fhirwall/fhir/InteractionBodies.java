package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The body each interaction takes, as {@link RequestParser} reads it: a resource for a create or
 * update (its type and id must match the URL), a JSON Patch or FHIRPath patch, and a batch or
 * transaction Bundle whose entries each have their request classified as if sent alone. Bodies are
 * re-serialised as JSON by {@link RequestBodies}. Thread-safe and free of I/O.
 */
final class InteractionBodies {
  private final ParserSettings settings;
  private final RequestPaths paths;
  private final RequestBodies bodies;
  private final BodyReferences references;
  private final BodyPatients patients;

  InteractionBodies(ParserSettings settings, RequestPaths paths, RequestBodies bodies, BodyReferences references,
      BodyPatients patients) {
    this.settings = requireNonNull(settings, "settings");
    this.paths = requireNonNull(paths, "paths");
    this.bodies = requireNonNull(bodies, "bodies");
    this.references = requireNonNull(references, "references");
    this.patients = requireNonNull(patients, "patients");
  }

  FhirRequest.Body resourceBody(byte[] raw, RequestHeaders.Info info, Interaction interaction, RequestPaths.Shape shape,
      boolean conditional) {
    if (raw.length == 0) {
      throw Refused.invalid("A " + interaction.code() + " needs a resource body");
    }
    ObjectNode resource = bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "request body");
    if (!resource.path("resourceType").asText().equals(shape.type())) {
      throw Refused.invalid("The body's resourceType does not match the resource type in the URL");
    }
    if (interaction == Interaction.UPDATE && !conditional) {
      JsonNode id = resource.get("id");
      if (id != null && !(id.isTextual() && id.textValue().equals(shape.id()))) {
        throw Refused.invalid("The body's id does not match the id in the URL");
      }
    }
    return new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType(), references.inResource(resource),
        patients.inResource(resource));
  }

  /**
   * An operation's body (a resource already read; null when it has none), with the conditional references it carries
   * (see {@link BodyReferences#inOperation}) and the searches its query string names
   * ({@link BodyReferences#inOperationQuery}): an operation takes its parameters from either.
   */
  FhirRequest.Body operationBody(@Nullable ObjectNode resource, List<QueryParam> query) {
    List<FhirRequest.ConditionalReference> found = new ArrayList<>(references.inOperationQuery(query));
    if (resource == null) {
      return found.isEmpty() ? FhirRequest.Body.EMPTY : new FhirRequest.Body(new byte[0], null, found);
    }
    refuseCountOnly(resource);
    found.addAll(references.inOperation(resource));
    return new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType(), found);
  }

  /**
   * An operation's {@code Parameters} body asking for totals only ({@code _count} of zero or less, {@code _summary}
   * of {@code count}) is refused: HAPI FHIR's JPA server answers a zero {@code _count} on {@code $everything} with the
   * number of resources in the whole server, and fhirwall judges counts in the query only (where a count of an
   * operation is forwarded as {@code _summary=count}, the form HAPI counts right).
   */
  private static void refuseCountOnly(ObjectNode resource) {
    if (!"Parameters".equals(resource.path("resourceType").asText())) {
      return;
    }
    for (JsonNode p : resource.path("parameter")) {
      String name = p.path("name").asText();
      if (!name.equals("_count") && !name.equals("_summary")) {
        continue;
      }
      for (var field : (Iterable<java.util.Map.Entry<String, JsonNode>>) p::fields) {
        if (!field.getKey().startsWith("value")) {
          continue;
        }
        String value = field.getValue().asText().trim();
        if (name.equals("_summary") ? value.equals("count") : countOf(value) <= 0) {
          throw Refused.invalid("An operation's count is asked in its query (?_summary=count), not in its body");
        }
      }
    }
  }

  /** A {@code _count} as HAPI FHIR reads it; one it cannot read counts as none (0). */
  private static long countOf(String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  FhirRequest.Body patchBody(byte[] raw, RequestHeaders.Info info, boolean inBundle) {
    if (raw.length == 0) {
      throw Refused.invalid("A patch needs a body");
    }
    RequestBodies.Kind kind = RequestBodies.kindOf(info.contentType());
    if (kind == RequestBodies.Kind.JSON_PATCH) {
      JsonNode patch = bodies.jsonPatch(raw);
      return new FhirRequest.Body(bodies.bytes(patch), RequestHeaders.JSON_PATCH, references.inPatch(patch),
          patients.inPatch(patch));
    }
    ObjectNode resource = bodies.resource(raw, kind, "patch body");
    String type = resource.path("resourceType").asText();
    if (!inBundle && !type.equals("Parameters")) {
      throw Refused.invalid("A FHIRPath patch body must be a Parameters resource");
    }
    List<FhirRequest.ConditionalReference> found = new ArrayList<>(references.inPatch(resource));
    FhirRequest.Written written = patients.inPatch(resource);
    if (type.equals("Binary")) {
      // a JSON Patch inside a Bundle travels as a Binary: the EPR decodes and applies it
      JsonNode inner = binaryPatch(resource);
      found.addAll(references.inPatch(inner));
      written = patients.inPatch(inner);
    }
    return new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType(), found, written);
  }

  /** The JSON Patch a Binary entry of a Bundle carries in {@code data}; refused when it is not one fhirwall can read. */
  private JsonNode binaryPatch(ObjectNode binary) {
    JsonNode data = binary.get("data");
    if (data == null || !data.isTextual()) {
      throw Refused.invalid("A patch in a Bundle entry as a Binary must carry its JSON Patch in data");
    }
    byte[] decoded;
    try {
      decoded = java.util.Base64.getMimeDecoder().decode(data.textValue());
    } catch (IllegalArgumentException e) {
      throw Refused.invalid("The data of a Binary patch in a Bundle entry is not valid base64");
    }
    return bodies.jsonPatch(decoded);
  }

  static Interaction bundleType(ObjectNode bundle) {
    if (!bundle.path("resourceType").asText().equals("Bundle")) {
      throw Refused.invalid("POST to the base takes a batch or transaction Bundle");
    }
    return switch (bundle.path("type").asText("")) {
      case "batch" -> Interaction.BATCH;
      case "transaction" -> Interaction.TRANSACTION;
      default -> throw Refused.invalid("Bundle.type must be batch or transaction");
    };
  }

  /** The entries of {@code bundle}, each request classified by {@code classify}. */
  List<FhirRequest.BundleEntry> entries(ObjectNode bundle, Function<RequestParser.Input, FhirRequest> classify) {
    JsonNode entryNode = bundle.get("entry");
    if (entryNode == null) {
      return List.of();
    }
    if (!entryNode.isArray()) {
      throw Refused.invalid("Bundle.entry must be an array");
    }
    if (entryNode.size() > settings.maxBundleEntries()) {
      throw Refused.of(400, IssueType.TOO_COSTLY, "More than " + settings.maxBundleEntries() + " Bundle entries");
    }
    List<FhirRequest.BundleEntry> entries = new ArrayList<>(entryNode.size());
    for (int i = 0; i < entryNode.size(); i++) {
      try {
        entries.add(entry(i, entryNode.get(i), classify));
      } catch (Refused r) {
        Refusal inner = r.refusal();
        throw new Refused(new Refusal(inner.status(), inner.code(), "Bundle entry " + i + ": " + inner.diagnostics(),
            inner.headers(), inner.closeConnection()));
      }
    }
    return entries;
  }

  private FhirRequest.BundleEntry entry(int index, JsonNode e, Function<RequestParser.Input, FhirRequest> classify) {
    if (!(e instanceof ObjectNode)) {
      throw Refused.invalid("A Bundle entry must be a JSON object");
    }
    String fullUrl = optionalText(e, "fullUrl");
    JsonNode request = e.get("request");
    if (!(request instanceof ObjectNode)) {
      throw Refused.invalid("Bundle entry without a request");
    }
    String method = optionalText(request, "method");
    String url = optionalText(request, "url");
    if (method == null || url == null) {
      throw Refused.invalid("Bundle entry request needs a method and a url");
    }
    if (!RequestPaths.METHODS.contains(method)) {
      throw Refused.invalid("Bundle entry request.method must be GET, POST, PUT, PATCH or DELETE");
    }
    if (url.startsWith("/") || url.contains("://") || url.startsWith("urn:")) {
      throw Refused.invalid("Bundle entry request.url must be relative to the base");
    }
    paths.checkTarget(url, "Bundle entry request.url");
    JsonNode resourceNode = e.get("resource");
    if (resourceNode != null && !(resourceNode instanceof ObjectNode)) {
      throw Refused.invalid("Bundle entry resource must be a JSON object");
    }
    int q = url.indexOf('?');
    String path = q < 0 ? url : url.substring(0, q);
    String query = q < 0 ? "" : url.substring(q + 1);
    RequestPaths.checkRelativePath(path);
    List<QueryParam> params = QueryCodec.parse(query, "Bundle entry url", settings);
    String resourceJson = resourceNode == null ? null : bodies.string(resourceNode);
    byte[] body = resourceJson == null ? new byte[0] : resourceJson.getBytes(StandardCharsets.UTF_8);
    RequestHeaders.Info info = RequestHeaders.Info.forEntry(
        entryHeader(request, "ifMatch"), entryHeader(request, "ifNoneMatch"), entryHeader(request, "ifModifiedSince"),
        entryHeader(request, "ifNoneExist"), resourceJson == null ? null : Format.JSON.contentType());
    FhirRequest classified = classify.apply(new RequestParser.Input(method, RequestPaths.segments(path), params, info, body, true));
    return new FhirRequest.BundleEntry(index, fullUrl, classified, resourceJson);
  }

  private static @Nullable String optionalText(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw Refused.invalid("Bundle entry " + field + " must be a string");
    }
    return v.textValue();
  }

  private static @Nullable String entryHeader(JsonNode request, String field) {
    String v = optionalText(request, field);
    if (v == null) {
      return null;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < 0x20 || c >= 0x7F) {
        throw Refused.invalid("Bundle entry request." + field + " must be printable ASCII");
      }
    }
    if (v.length() > 1024) {
      throw Refused.of(400, IssueType.TOO_LONG, "Bundle entry request." + field + " is too long");
    }
    return v.isEmpty() ? null : v;
  }
}
