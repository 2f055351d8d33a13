package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.QueryParam;
import org.jspecify.annotations.Nullable;

/**
 * The other types a search parameter makes the EPR search: each type a chain follows a reference to
 * ({@code subject:Patient.name} searches Patient; {@code subject.name} every type Observation's {@code subject} may
 * reference, read from HAPI FHIR's model; {@code patient.organization.name} Patient, then Organization), and each type a
 * reverse chain names ({@code _has:Observation:subject:code} searches Observation), through nested links and a chain
 * a reverse chain ends in. {@link #ANY} stands for a link whose types fhirwall cannot tell (a parameter its model does
 * not know, a reference to any type): only a scope for every type covers it. Immutable and thread-safe.
 */
final class ChainTypes {
  /** A link whose types cannot be told. */
  static final String ANY = "*";
  /** The R4 model, read once. */
  static final ChainTypes R4 = new ChainTypes(FhirContext.forR4Cached());

  private static final String HAS = "_has:";

  private final FhirContext context;

  ChainTypes(FhirContext context) {
    this.context = requireNonNull(context, "context");
  }

  /** The types {@code p}, a parameter of a search of {@code type} (null: several, unknown), searches besides it. */
  Set<String> searchedBy(@Nullable String type, QueryParam p) {
    Set<String> out = new LinkedHashSet<>();
    String name = p.name();
    String current = type;
    while (name.startsWith(HAS)) {
      String[] links = name.split(":", 4);
      if (links.length < 4) {
        out.add(ANY);
        return out;
      }
      current = links[1];
      out.add(current);
      name = links[3];
    }
    String[] segments = name.split("\\.");
    Set<String> types = new LinkedHashSet<>();
    if (current != null) {
      types.add(current);
    }
    for (int i = 0; i < segments.length - 1; i++) {
      String segment = segments[i];
      int colon = segment.indexOf(':');
      String param = colon < 0 ? segment : segment.substring(0, colon);
      String modifier = colon < 0 ? null : segment.substring(colon + 1);
      Set<String> next = new LinkedHashSet<>();
      if (modifier != null && !modifier.isEmpty() && Character.isUpperCase(modifier.charAt(0))) {
        next.add(modifier);
      } else if (types.isEmpty() || param.startsWith("_has")) {
        next.add(ANY);
      } else {
        for (String t : types) {
          next.addAll(targets(t, param));
        }
      }
      out.addAll(next);
      if (next.contains(ANY)) {
        return out;
      }
      types = next;
    }
    return out;
  }

  /** The types a reference parameter of {@code type} may point to; {@link #ANY} when the model cannot tell. */
  private Set<String> targets(String type, String param) {
    RuntimeResourceDefinition definition;
    try {
      definition = context.getResourceDefinition(type);
    } catch (RuntimeException e) {
      return Set.of(ANY);
    }
    RuntimeSearchParam sp = definition.getSearchParam(param);
    if (sp == null || sp.getParamType() != RestSearchParameterTypeEnum.REFERENCE || sp.getTargets().isEmpty()) {
      return Set.of(ANY);
    }
    return Set.copyOf(sp.getTargets());
  }

  /** Every type {@code params}, the criteria of a search of {@code type}, search besides it. */
  Set<String> searchedBy(@Nullable String type, List<QueryParam> params) {
    Set<String> out = new LinkedHashSet<>();
    for (QueryParam p : params) {
      out.addAll(searchedBy(type, p));
    }
    return out;
  }
}
