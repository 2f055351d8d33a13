package org.fhirwall.demo;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.IQueryParameterOr;
import ca.uhn.fhir.model.api.IQueryParameterType;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Evaluates a search (an AND of ORs per parameter, HAPI's parameter model) against the indexes
 * of a {@link TypeTable}, without looking at any resource. Callers hold the store's read lock.
 * Anything it does not support (a modifier, {@code :missing}, a deep chain) is a 400, never
 * silently widened or narrowed.
 */
final class QueryEvaluator {

  private final Function<String, @Nullable TypeTable> tables;
  private final FhirContext context;

  QueryEvaluator(Function<String, @Nullable TypeTable> tables, FhirContext context) {
    this.tables = tables;
    this.context = context;
  }

  /** The live entries matching every parameter, in creation order. */
  List<StoredEntry> search(TypeTable table, Map<String, ? extends IQueryParameterAnd<?>> params) {
    Set<StoredEntry> result = null;
    for (Map.Entry<String, ? extends IQueryParameterAnd<?>> param : params.entrySet()) {
      for (IQueryParameterOr<?> or : param.getValue().getValuesAsQueryTokens()) {
        Set<StoredEntry> matched = matchAny(table, param.getKey(), or.getValuesAsQueryTokens());
        result = result == null ? matched : intersect(result, matched);
        if (result.isEmpty()) {
          return List.of();
        }
      }
    }
    if (result == null) {
      List<StoredEntry> all = new ArrayList<>(table.live());
      for (StoredEntry entry : table.ordered) {
        if (entry.live()) {
          all.add(entry);
        }
      }
      return all;
    }
    List<StoredEntry> sorted = new ArrayList<>(result);
    sorted.removeIf(e -> !e.live());
    sorted.sort(Comparator.comparingLong(e -> e.seq));
    return sorted;
  }

  private Set<StoredEntry> matchAny(TypeTable table, String name, List<? extends IQueryParameterType> values) {
    Set<StoredEntry> union = new HashSet<>();
    if ("_id".equals(name)) {
      for (IQueryParameterType value : values) {
        rejectMissing(name, value);
        String id = value instanceof TokenParam token ? token.getValue()
            : value instanceof StringParam string ? string.getValue() : value.getValueAsQueryToken(context);
        StoredEntry entry = id == null ? null : table.liveEntry(id);
        if (entry != null) {
          union.add(entry);
        }
      }
      return union;
    }
    SearchParams.Def def = table.params.get(name);
    if (def == null) {
      throw new InvalidRequestException("Unknown search parameter " + name + " for " + table.type
          + " (expected one of: _id, " + String.join(", ", table.params.keySet()) + ")");
    }
    for (IQueryParameterType value : values) {
      rejectMissing(name, value);
      switch (def.kind()) {
        case STRING -> matchString(table, def, (StringParam) value, union);
        case TOKEN -> matchToken(table, def, (TokenParam) value, union);
        case DATE -> matchDate(table, def, (DateParam) value, union);
        case REFERENCE -> matchReference(table, def, (ReferenceParam) value, union);
      }
    }
    return union;
  }

  private static void matchString(TypeTable table, SearchParams.Def def, StringParam param, Set<StoredEntry> out) {
    String value = param.getValueNotNull();
    if (param.isText()) {
      throw new InvalidRequestException("Modifier :text is not supported on " + def.name());
    }
    if (param.isExact()) {
      addAll(out, table.index(def.name() + TypeTable.EXACT).get(value));
      return;
    }
    String folded = TypeTable.fold(value);
    NavigableMap<String, EntrySet> index = table.index(def.name());
    if (param.isContains()) {
      for (Map.Entry<String, EntrySet> keyed : index.entrySet()) {
        if (keyed.getKey().contains(folded)) {
          keyed.getValue().addTo(out);
        }
      }
      return;
    }
    for (EntrySet entries : index.subMap(folded, true, folded + Character.MAX_VALUE, false).values()) {
      entries.addTo(out);
    }
  }

  private static void matchToken(TypeTable table, SearchParams.Def def, TokenParam param, Set<StoredEntry> out) {
    if (param.getModifier() != null) {
      throw new InvalidRequestException("Modifier :" + param.getModifier().getValue() + " is not supported on "
          + def.name());
    }
    String system = param.getSystem();
    String code = param.getValue();
    String key;
    if (system == null) {
      key = code == null ? "" : code;
    } else if (code == null || code.isEmpty()) {
      key = system + "|";
    } else {
      key = system + "|" + code;
    }
    if (key.isEmpty() || "|".equals(key)) {
      throw new InvalidRequestException("Empty token for " + def.name() + " (expected: [system|]code)");
    }
    addAll(out, table.index(def.name()).get(key));
  }

  private static void matchDate(TypeTable table, SearchParams.Def def, DateParam param, Set<StoredEntry> out) {
    String raw = param.getValueAsString();
    if (raw == null || raw.isEmpty()) {
      throw new InvalidRequestException("Empty date for " + def.name() + " (expected: [prefix]yyyy[-mm[-dd]])");
    }
    String first;
    String last;
    try {
      if (raw.length() == 4) {
        int year = Integer.parseInt(raw);
        first = LocalDate.of(year, 1, 1).toString();
        last = LocalDate.of(year, 12, 31).toString();
      } else if (raw.length() == 7) {
        YearMonth month = YearMonth.parse(raw);
        first = month.atDay(1).toString();
        last = month.atEndOfMonth().toString();
      } else {
        first = LocalDate.parse(raw.substring(0, 10)).toString();
        last = first;
      }
    } catch (DateTimeParseException | NumberFormatException | IndexOutOfBoundsException e) {
      throw new InvalidRequestException("Bad date for " + def.name() + ": " + raw + " (expected: yyyy[-mm[-dd]])");
    }
    NavigableMap<String, EntrySet> index = table.index(def.name());
    ParamPrefixEnum prefix = param.getPrefix() == null ? ParamPrefixEnum.EQUAL : param.getPrefix();
    List<Collection<EntrySet>> ranges = new ArrayList<>(2);
    switch (prefix) {
      case EQUAL, APPROXIMATE -> ranges.add(index.subMap(first, true, last, true).values());
      case GREATERTHAN_OR_EQUALS -> ranges.add(index.tailMap(first, true).values());
      case GREATERTHAN, STARTS_AFTER -> ranges.add(index.tailMap(last, false).values());
      case LESSTHAN_OR_EQUALS -> ranges.add(index.headMap(last, true).values());
      case LESSTHAN, ENDS_BEFORE -> ranges.add(index.headMap(first, false).values());
      case NOT_EQUAL -> {
        ranges.add(index.headMap(first, false).values());
        ranges.add(index.tailMap(last, false).values());
      }
    }
    for (Collection<EntrySet> range : ranges) {
      range.forEach(entries -> entries.addTo(out));
    }
  }

  private void matchReference(TypeTable table, SearchParams.Def def, ReferenceParam param, Set<StoredEntry> out) {
    String type = param.getResourceType();
    if (param.hasChain()) {
      matchChain(table, def, param, type, out);
      return;
    }
    String id = param.getIdPart();
    if (id == null || id.isEmpty()) {
      throw new InvalidRequestException("Empty reference for " + def.name() + " (expected: [Type/]id)");
    }
    NavigableMap<String, EntrySet> index = table.index(def.name());
    if (type != null && !type.isEmpty()) {
      addAll(out, index.get(type + "/" + id));
      return;
    }
    for (String target : def.targets()) {
      addAll(out, index.get(target + "/" + id));
    }
  }

  private void matchChain(TypeTable table, SearchParams.Def def, ReferenceParam param, @Nullable String type,
      Set<StoredEntry> out) {
    String chain = param.getChain();
    if (chain.contains(".")) {
      throw new InvalidRequestException("Chains deeper than one link are not supported: " + def.name() + "." + chain);
    }
    List<String> targets = type != null && !type.isEmpty() ? List.of(type) : def.targets();
    boolean supported = false;
    for (String targetType : targets) {
      TypeTable target = tables.apply(targetType);
      if (target == null || !("_id".equals(chain) || target.params.containsKey(chain))) {
        continue;
      }
      supported = true;
      IQueryParameterType chained = newParam("_id".equals(chain) ? SearchParams.Kind.TOKEN
          : target.params.get(chain).kind());
      chained.setValueAsQueryToken(context, chain, null, param.getValue());
      NavigableMap<String, EntrySet> index = table.index(def.name());
      for (StoredEntry targetEntry : matchAny(target, chain, List.of(chained))) {
        addAll(out, index.get(targetEntry.type + "/" + targetEntry.id));
      }
    }
    if (!supported) {
      throw new InvalidRequestException("Unsupported chain " + def.name() + "." + chain + " (expected a search "
          + "parameter of " + String.join(" or ", targets) + ")");
    }
  }

  static IQueryParameterType newParam(SearchParams.Kind kind) {
    return switch (kind) {
      case STRING -> new StringParam();
      case TOKEN -> new TokenParam();
      case DATE -> new DateParam();
      case REFERENCE -> new ReferenceParam();
    };
  }

  private static void rejectMissing(String name, IQueryParameterType value) {
    if (value.getMissing() != null) {
      throw new InvalidRequestException("Modifier :missing is not supported on " + name);
    }
  }

  private static Set<StoredEntry> intersect(Set<StoredEntry> a, Set<StoredEntry> b) {
    Set<StoredEntry> small = a.size() <= b.size() ? a : b;
    Set<StoredEntry> large = small == a ? b : a;
    Set<StoredEntry> out = new HashSet<>();
    for (StoredEntry entry : small) {
      if (large.contains(entry)) {
        out.add(entry);
      }
    }
    return out;
  }

  private static void addAll(Set<StoredEntry> out, @Nullable EntrySet entries) {
    if (entries != null) {
      entries.addTo(out);
    }
  }
}
