package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The conditional references of a body a write sends the EPR. HAPI FHIR's JPA server resolves every reference whose
 * text holds a {@code ?} by searching when it writes: it takes the part after the last {@code /} before the {@code ?}
 * ({@code Patient/?...} naming Patient too) as the type, whatever base comes before (so an absolute URL on any base is
 * one), and the query as a match URL. Wherever the reference stands (nested elements, {@code contained} resources,
 * extensions' {@code valueReference}, a resource inside a Bundle), each is read here into its type and criteria, for
 * the policy to judge like a search; what fhirwall cannot read so is refused (400), as HAPI FHIR would fail it.
 * {@code urn:uuid:} and {@code #id} references have no query and are no search.
 *
 * <p>In a patch body the text of a reference may stand in any value ({@code "path": "/subject/reference", "value":
 * "Patient?..."}, a FHIRPath patch's {@code valueString}), so there every text whose part before {@code ?} names a
 * resource type, in any case, is read as one too. Thread-safe and free of I/O.
 */
final class BodyReferences {
  private static final String WHERE = "conditional reference in the body";
  private static final String WHERE_OPERATION = "a request that cannot be judged";

  private final RequestParams params;
  private final RequestPaths paths;
  private final Set<String> typesByLowerCase;

  BodyReferences(RequestParams params, RequestPaths paths, Set<String> resourceTypes) {
    this.params = requireNonNull(params, "params");
    this.paths = requireNonNull(paths, "paths");
    this.typesByLowerCase = resourceTypes.stream().map(t -> t.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
  }

  /** The conditional references of a resource: every {@code reference} member with a {@code ?}, at any depth. */
  List<FhirRequest.ConditionalReference> inResource(JsonNode resource) {
    List<FhirRequest.ConditionalReference> out = new ArrayList<>();
    walk(resource, false, out);
    return out;
  }

  /** The conditional references of a JSON Patch or FHIRPath patch (see the class comment). */
  List<FhirRequest.ConditionalReference> inPatch(JsonNode patch) {
    List<FhirRequest.ConditionalReference> out = new ArrayList<>();
    walk(patch, true, out);
    return out;
  }

  /**
   * The conditional references of an operation's body ({@code $process-message}'s message Bundle, a Parameters
   * resource): every {@code reference} member with a {@code ?}, and, as in a patch, every text naming a search
   * ({@code Patient?...}: an operation's parameter may be a search the EPR runs, such as HAPI FHIR's {@code url} of
   * {@code $delete-expunge}). A Bundle entry with a {@code request} in it is refused (400): fhirwall judges such entries
   * only in a batch or transaction posted to the base, and an operation might run them as one.
   */
  List<FhirRequest.ConditionalReference> inOperation(JsonNode body) {
    List<FhirRequest.ConditionalReference> out = new ArrayList<>();
    walk(body, true, true, out);
    return out;
  }

  /**
   * The searches an operation's query string names: every parameter value that, as in an operation's body, names a
   * resource type before a {@code ?} ({@code $delete-expunge?url=Patient?identifier=...}, {@code _typeFilter}).
   */
  List<FhirRequest.ConditionalReference> inOperationQuery(List<QueryParam> query) {
    List<FhirRequest.ConditionalReference> out = new ArrayList<>();
    for (QueryParam p : query) {
      text(p.value(), true, false, out);
    }
    return out;
  }

  private void walk(JsonNode node, boolean patch, List<FhirRequest.ConditionalReference> out) {
    walk(node, patch, false, out);
  }

  private void walk(JsonNode node, boolean patch, boolean operation, List<FhirRequest.ConditionalReference> out) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode v = f.getValue();
        if (operation && f.getKey().equals("request") && v.isObject() && v.has("method")) {
          throw Refused.invalid("An operation's body holds a Bundle entry with a request (" + WHERE_OPERATION + "): "
              + "fhirwall checks entries with requests only in a batch or transaction posted to the base");
        }
        if (v.isTextual() && f.getKey().equals("reference")) {
          if (v.textValue().indexOf('?') >= 0) {
            out.add(read(v.textValue(), true));
          }
        } else if (v.isTextual()) {
          text(v.textValue(), patch, !operation, out);
        } else {
          walk(v, patch, operation, out);
        }
      }
    } else if (node.isArray()) {
      for (JsonNode e : node) {
        if (e.isTextual()) {
          text(e.textValue(), patch, !operation, out);
        } else {
          walk(e, patch, operation, out);
        }
      }
    }
  }

  /** A text naming a search, in a patch (a value it writes: {@code written}) or an operation's parameters. */
  private void text(String text, boolean patch, boolean written, List<FhirRequest.ConditionalReference> out) {
    if (patch && text.indexOf('?') >= 0 && typesByLowerCase.contains(typePart(text).toLowerCase(Locale.ROOT))) {
      out.add(read(text, written));
    }
  }

  private FhirRequest.ConditionalReference read(String text, boolean written) {
    String type = typePart(text);
    if (!paths.isResourceType(type)) {
      throw Refused.invalid("A conditional reference in the body (a reference with '?') must name an R4 resource type "
          + "before the '?', exactly as written (e.g. Patient?identifier=...)");
    }
    return new FhirRequest.ConditionalReference(type, params.matchCriteria(text.substring(text.indexOf('?') + 1), WHERE),
        written);
  }

  /** The type HAPI FHIR reads: the last path segment before the first {@code ?}, one trailing {@code /} aside. */
  private static String typePart(String text) {
    String path = text.substring(0, text.indexOf('?'));
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
