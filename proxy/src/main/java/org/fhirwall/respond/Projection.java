package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.QueryParam;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.jspecify.annotations.Nullable;

/**
 * What a client asked to see of each resource ({@code _elements}, {@code _elements:exclude},
 * {@code _summary=true|text|data}). fhirwall never lets the EPR apply it: a projection could strip
 * the very reference that names a patient. The EPR is asked for whole resources, fhirwall counts
 * their patients, then applies the projection itself before release.
 *
 * @param elements the element names of {@code _elements} (empty when none)
 * @param exclude true for {@code _elements:exclude}
 * @param summary the {@code _summary} mode ({@code true}, {@code text}, {@code data}), or null
 */
public record Projection(Set<String> elements, boolean exclude, @Nullable String summary) {
  private static final Set<String> PARAMS = Set.of("_elements", "_elements:exclude", "_summary");

  public Projection {
    elements = Set.copyOf(elements);
  }

  /** True for the parameters fhirwall applies itself ({@code _summary=count} and {@code false} stay with the EPR). */
  public static boolean isProjection(QueryParam p) {
    if (p.name().equals("_summary")) {
      return p.value().equals("true") || p.value().equals("text") || p.value().equals("data");
    }
    return PARAMS.contains(p.name());
  }

  /** The projection these parameters ask for, or null when none. */
  public static @Nullable Projection of(List<QueryParam> params) {
    Set<String> elements = new LinkedHashSet<>();
    boolean exclude = false;
    String summary = null;
    boolean any = false;
    for (QueryParam p : params) {
      if (!isProjection(p)) {
        continue;
      }
      any = true;
      if (p.name().equals("_summary")) {
        summary = p.value();
      } else {
        exclude |= p.name().endsWith(":exclude");
        for (String e : p.value().split(",")) {
          if (!e.isBlank()) {
            elements.add(e.trim());
          }
        }
      }
    }
    return any ? new Projection(elements, exclude, summary) : null;
  }

  /** The parameters without the projection ones (what the EPR is asked). */
  public static List<QueryParam> without(List<QueryParam> params) {
    List<QueryParam> kept = new ArrayList<>(params.size());
    for (QueryParam p : params) {
      if (!isProjection(p)) {
        kept.add(p);
      }
    }
    return kept;
  }

  /** The projection as query parameters, to carry it across fhirwall's paging links. */
  public List<QueryParam> asParams() {
    List<QueryParam> out = new ArrayList<>(2);
    if (!elements.isEmpty()) {
      out.add(new QueryParam(exclude ? "_elements:exclude" : "_elements", String.join(",", elements)));
    }
    if (summary != null) {
      out.add(new QueryParam("_summary", summary));
    }
    return out;
  }

  /** Applies the projection to a JSON resource (a Bundle's entries each projected); HAPI does the element work. */
  public byte[] apply(FhirContext fhir, byte[] json) {
    if (json.length == 0) {
      return json;
    }
    IParser in = fhir.newJsonParser();
    IBaseResource resource = in.parseResource(new String(json, UTF_8));
    IParser out = fhir.newJsonParser();
    out.setEncodeElementsAppliesToChildResourcesOnly(resource.fhirType().equals("Bundle"));
    if (summary != null) {
      switch (summary) {
        case "true" -> out.setSummaryMode(true);
        case "data" -> out.setSuppressNarratives(true);
        case "text" -> out.setEncodeElements(Set.of("*.text", "*.id", "*.meta"));
        default -> throw new IllegalStateException("_summary=" + summary);
      }
    }
    if (!elements.isEmpty()) {
      Set<String> paths = new LinkedHashSet<>();
      for (String e : elements) {
        paths.add("*." + e);
      }
      if (exclude) {
        out.setDontEncodeElements(paths);
      } else {
        paths.add("*.id");
        paths.add("*.meta");
        out.setEncodeElements(paths);
      }
    }
    return out.encodeResourceToString(resource).getBytes(UTF_8);
  }
}
