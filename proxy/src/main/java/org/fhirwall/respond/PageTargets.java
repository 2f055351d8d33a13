package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.fhir.QueryParam;
import org.jspecify.annotations.Nullable;

/**
 * The client's projection ({@code _elements}, {@code _summary}) rides inside fhirwall's signed
 * paging links, appended to the EPR's own page target; opening a link splits it off again, so the
 * EPR is always asked for whole resources.
 */
final class PageTargets {
  private PageTargets() {}

  record Split(String target, @Nullable Projection projection) {}

  /** The query suffix ({@code &_elements=...}) that carries a projection inside a page target. */
  static String query(Projection p) {
    StringBuilder sb = new StringBuilder();
    for (QueryParam q : p.asParams()) {
      sb.append('&').append(q.name()).append('=').append(URLEncoder.encode(q.value(), UTF_8));
    }
    return sb.toString();
  }

  static Split split(String target) {
    int q = target.indexOf('?');
    if (q < 0) {
      return new Split(target, null);
    }
    List<String> kept = new ArrayList<>();
    List<QueryParam> projection = new ArrayList<>();
    for (String pair : target.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      if (eq > 0 && (name.equals("_elements") || name.equals("_elements:exclude") || name.equals("_summary"))) {
        QueryParam p = new QueryParam(name, URLDecoder.decode(pair.substring(eq + 1), UTF_8));
        if (Projection.isProjection(p)) {
          projection.add(p);
          continue;
        }
      }
      if (!pair.isEmpty()) {
        kept.add(pair);
      }
    }
    String base = target.substring(0, q);
    String rebuilt = kept.isEmpty() ? base : base + "?" + String.join("&", kept);
    return new Split(rebuilt, Projection.of(projection));
  }
}
