package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.Set;
import java.util.regex.Pattern;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.ReverseChain;
import org.jspecify.annotations.Nullable;

/**
 * Whether a search has a criterion that can <em>select</em>, rather than one that is present but
 * matches (nearly) everyone. A search is selective when it is a compartment search or has at least
 * one selective parameter; a parameter is selective only when every one of its OR-values is:
 *
 * <ul>
 *   <li>never: result and control parameters ({@code _count}, {@code _sort}, ...), {@code :missing},
 *       {@code :not}, {@code :above}/{@code :below}, an empty value, and parameters HAPI FHIR's
 *       model does not know for the type;
 *   <li>string parameters ({@code name}, {@code family}, {@code address}, chains): at least
 *       {@value #MIN_STRING} characters, since the default match is "starts with" ({@code name=a}
 *       matches a 26th of everyone); {@code :exact} needs one;
 *   <li>token parameters: a code (not only a {@code system|}); low-cardinality codes such as
 *       {@code gender}, {@code active}, {@code deceased}, {@code status}, {@code _tag} are never
 *       selective;
 *   <li>date parameters: an equality (no prefix, or {@code eq}) to a day or finer; ranges
 *       ({@code gt1800}, {@code le2000}, {@code ap}, {@code ne}, ...) and year or month precision are not;
 *   <li>number and quantity parameters: an equality;
 *   <li>references, {@code _id}, uri and composite parameters: a non-empty value;
 *   <li>reverse chains ({@code _has:Observation:subject:code}): as the parameter they end in, for its type.
 * </ul>
 *
 * Immutable and thread-safe.
 */
final class Selectivity {
  static final int MIN_STRING = 3;

  /** Token parameters whose values split everyone into a few large groups. */
  static final Set<String> LOW_CARDINALITY = Set.of("gender", "active", "deceased", "status", "clinical-status",
      "verification-status", "intent", "priority", "category", "language", "_tag", "_security", "_profile", "_source",
      "type", "class", "animal-species", "animal-breed");

  private static final Pattern DAY_OR_FINER = Pattern.compile("\\d{4}-\\d{2}-\\d{2}.*");
  private static final Pattern PREFIX = Pattern.compile("(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[0-9-])");
  private static final Set<String> NEVER_SELECTIVE_MODIFIERS = Set.of("missing", "not", "above", "below", "not-in", "in");

  private final FhirContext fhir;

  Selectivity(FhirContext fhir) {
    this.fhir = requireNonNull(fhir, "fhir");
  }

  boolean isSelective(FhirRequest r, java.util.List<String> types) {
    return r.compartment() != null || isSelective(r.params(), types);
  }

  /** Whether one of {@code params} is a selective criterion for {@code types}. */
  boolean isSelective(java.util.List<QueryParam> params, java.util.List<String> types) {
    for (QueryParam p : params) {
      if (isSelective(p, types)) {
        return true;
      }
    }
    return false;
  }

  private boolean isSelective(QueryParam p, java.util.List<String> types) {
    String base = p.baseName();
    if (base.equals("_has")) {
      ReverseChain chain = ReverseChain.of(p);
      return chain != null && isSelective(chain.end(), java.util.List.of(chain.type()));
    }
    if (SearchCheck.CONTROL_PARAMETERS.contains(base) || LOW_CARDINALITY.contains(base)) {
      return false;
    }
    String modifier = p.modifier();
    if (modifier != null && NEVER_SELECTIVE_MODIFIERS.contains(modifier)) {
      return false;
    }
    RestSearchParameterTypeEnum type = p.chain() != null ? RestSearchParameterTypeEnum.STRING : typeOf(base, types);
    if (type == null) {
      return false;
    }
    for (String v : p.orValues()) {
      if (!selectiveValue(type, modifier, v.trim())) {
        return false;
      }
    }
    return true;
  }

  private static boolean selectiveValue(RestSearchParameterTypeEnum type, @Nullable String modifier, String v) {
    if (v.isEmpty()) {
      return false;
    }
    return switch (type) {
      case STRING -> "exact".equals(modifier) || v.replace("\\", "").length() >= MIN_STRING;
      case TOKEN -> {
        int bar = v.indexOf('|');
        String code = bar < 0 ? v : v.substring(bar + 1);
        yield "text".equals(modifier) ? code.length() >= MIN_STRING : !code.isEmpty();
      }
      case DATE -> {
        String date = v.startsWith("eq") ? v.substring(2) : v;
        yield !PREFIX.matcher(date).lookingAt() && DAY_OR_FINER.matcher(date).matches();
      }
      case NUMBER, QUANTITY -> {
        String n = v.startsWith("eq") ? v.substring(2) : v;
        yield !PREFIX.matcher(n).lookingAt();
      }
      case REFERENCE, URI, COMPOSITE, SPECIAL, HAS -> true;
    };
  }

  /** The parameter's type in every searched type that knows it; null when some type does not. */
  private @Nullable RestSearchParameterTypeEnum typeOf(String base, java.util.List<String> types) {
    if (base.equals("_id")) {
      return RestSearchParameterTypeEnum.TOKEN;
    }
    if (base.equals("_lastUpdated")) {
      return RestSearchParameterTypeEnum.DATE;
    }
    if (base.equals("_text") || base.equals("_content")) {
      return RestSearchParameterTypeEnum.STRING;
    }
    if (types.isEmpty()) {
      return null;
    }
    RestSearchParameterTypeEnum found = null;
    for (String t : types) {
      RuntimeResourceDefinition def;
      try {
        def = fhir.getResourceDefinition(t);
      } catch (RuntimeException e) {
        return null;
      }
      RuntimeSearchParam sp = def.getSearchParam(base);
      if (sp == null || sp.getParamType() == null || found != null && found != sp.getParamType()) {
        return null;
      }
      found = sp.getParamType();
    }
    return found;
  }
}
