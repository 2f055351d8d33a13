package org.fhirwall.demo;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.api.QualifiedParamList;
import ca.uhn.fhir.rest.param.DateAndListParam;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.StringAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A search given as a query string (a batch or transaction GET entry), parsed into the same
 * parameter model HAPI gives the search methods. Unknown parameters are a 400; other
 * underscore parameters than the ones named here are ignored, as HAPI's server ignores them.
 *
 * @param count {@code _count}, null when absent
 * @param summaryCount whether {@code _summary=count} was asked for
 */
record RawSearch(Map<String, IQueryParameterAnd<?>> params, Set<Include> includes, Set<Include> revIncludes,
    @Nullable Integer count, boolean summaryCount) {

  static RawSearch parse(FhirContext context, String type, Map<String, String[]> query) {
    Map<String, List<QualifiedParamList>> byName = new LinkedHashMap<>();
    Set<Include> includes = new HashSet<>();
    Set<Include> revIncludes = new HashSet<>();
    Integer count = null;
    boolean summaryCount = false;
    for (Map.Entry<String, String[]> param : query.entrySet()) {
      String key = param.getKey();
      int cut = firstOf(key, ':', '.');
      String name = cut < 0 ? key : key.substring(0, cut);
      String qualifier = cut < 0 ? null : key.substring(cut);
      for (String value : param.getValue()) {
        switch (name) {
          case "_count" -> count = count(value);
          case "_include" -> includes.add(new Include(value, isIterate(qualifier)));
          case "_revinclude" -> revIncludes.add(new Include(value, isIterate(qualifier)));
          case "_summary" -> summaryCount |= "count".equals(value);
          default -> {
            if (name.startsWith("_") && !"_id".equals(name)) {
              continue;
            }
            byName.computeIfAbsent(name, n -> new ArrayList<>())
                .add(QualifiedParamList.splitQueryStringByCommasIgnoreEscape(qualifier, value));
          }
        }
      }
    }
    Map<String, SearchParams.Def> defs = SearchParams.of(type);
    Map<String, IQueryParameterAnd<?>> params = new LinkedHashMap<>();
    for (Map.Entry<String, List<QualifiedParamList>> param : byName.entrySet()) {
      String name = param.getKey();
      SearchParams.Kind kind = "_id".equals(name) ? SearchParams.Kind.TOKEN
          : defs.containsKey(name) ? defs.get(name).kind() : null;
      if (kind == null) {
        throw new InvalidRequestException("Unknown search parameter " + name + " for " + type + " (expected one of: _id, "
            + String.join(", ", defs.keySet()) + ")");
      }
      IQueryParameterAnd<?> and = switch (kind) {
        case STRING -> new StringAndListParam();
        case TOKEN -> new TokenAndListParam();
        case DATE -> new DateAndListParam();
        case REFERENCE -> new ReferenceAndListParam();
      };
      and.setValuesAsQueryTokens(context, name, param.getValue());
      params.put(name, and);
    }
    return new RawSearch(params, includes, revIncludes, count, summaryCount);
  }

  private static int count(String value) {
    try {
      int count = Integer.parseInt(value);
      if (count >= 0) {
        return count;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidRequestException("_count: " + value + " (expected: a whole number >= 0)");
  }

  private static boolean isIterate(@Nullable String qualifier) {
    return ":iterate".equals(qualifier) || ":recurse".equals(qualifier);
  }

  private static int firstOf(String key, char a, char b) {
    int i = key.indexOf(a);
    int j = key.indexOf(b);
    return i < 0 ? j : j < 0 ? i : Math.min(i, j);
  }
}
