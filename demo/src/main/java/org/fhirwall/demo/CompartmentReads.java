package org.fhirwall.demo;

import static org.fhirwall.demo.Tables.liveEntries;
import static org.fhirwall.demo.Tables.sorted;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The demo store's reads that follow references from resource to resource: {@code _include} and
 * {@code _revinclude}, Patient {@code $everything}, and the resources of a bulk export. Each runs
 * under the store's read lock (the store takes it); nothing here changes the tables.
 */
final class CompartmentReads {
  private final Tables tables;
  private final QueryEvaluator evaluator;

  CompartmentReads(Tables tables, QueryEvaluator evaluator) {
    this.tables = tables;
    this.evaluator = evaluator;
  }

  /** 400 unless every {@code _include} and {@code _revinclude} names a reference parameter this store indexes. */
  void checkIncludes(String type, Set<Include> includes, Set<Include> revIncludes) {
    for (Include include : includes) {
      if ("*".equals(include.getValue()) || !type.equals(include.getParamType())) {
        continue;
      }
      referenceParam(type, include, "_include");
    }
    for (Include include : revIncludes) {
      if ("*".equals(include.getValue())) {
        throw new InvalidRequestException("_revinclude=* is not supported (expected: SourceType:parameter)");
      }
      referenceParam(include.getParamType(), include, "_revinclude");
    }
  }

  /**
   * The current versions {@code page} includes: targets of its references named by
   * {@code includes}, and resources referring to it named by {@code revIncludes}; each once, none
   * of {@code page} itself. Iterate modifiers are applied as one level.
   */
  List<StoredVersion> included(List<StoredVersion> page, Set<Include> includes, Set<Include> revIncludes) {
    Set<String> seen = new HashSet<>();
    page.forEach(v -> seen.add(v.key()));
    List<StoredVersion> out = new ArrayList<>();
    for (Include include : includes) {
      for (StoredVersion version : page) {
        for (String param : includedParams(version.type(), include)) {
          for (String key : version.keys().getOrDefault(param, List.of())) {
            if (include.getParamTargetType() != null && !key.startsWith(include.getParamTargetType() + "/")) {
              continue;
            }
            StoredEntry target = tables.liveEntry(key);
            if (target != null && seen.add(key)) {
              out.add(target.current());
            }
          }
        }
      }
    }
    for (Include include : revIncludes) {
      TypeTable source = tables.byType().get(include.getParamType());
      if (source == null) {
        continue;
      }
      for (StoredVersion version : page) {
        for (StoredEntry entry : sorted(source.index(include.getParamName()).get(version.key()))) {
          if (seen.add(entry.type + "/" + entry.id)) {
            out.add(entry.current());
          }
        }
      }
    }
    return out;
  }

  /**
   * Patient $everything: for one patient ({@code patientId}) or all of them (null), each patient
   * followed by its compartment (Encounter, Observation, Condition, MedicationRequest,
   * DocumentReference) and the Practitioners and Organizations these refer to (each once).
   */
  List<StoredVersion> everything(@Nullable String patientId) {
    TypeTable patients = tables.table("Patient");
    List<StoredEntry> selected;
    if (patientId != null) {
      selected = List.of(tables.currentOrThrow("Patient", patientId));
    } else {
      selected = evaluator.search(patients, Map.of());
    }
    List<StoredVersion> out = new ArrayList<>();
    Set<String> referenced = new HashSet<>();
    for (StoredEntry patient : selected) {
      int start = out.size();
      out.add(patient.current());
      for (String type : SearchParams.COMPARTMENT_TYPES) {
        for (StoredEntry entry : sorted(tables.table(type).index("patient").get(patient.type + "/" + patient.id))) {
          out.add(entry.current());
        }
      }
      int end = out.size();
      for (int i = start; i < end; i++) {
        StoredVersion version = out.get(i);
        Map<String, SearchParams.Def> defs = SearchParams.of(version.type());
        for (Map.Entry<String, List<String>> keyed : version.keys().entrySet()) {
          if (defs.get(keyed.getKey()).kind() != SearchParams.Kind.REFERENCE) {
            continue;
          }
          for (String key : keyed.getValue()) {
            String targetType = key.substring(0, key.indexOf('/'));
            StoredEntry target = SearchParams.EVERYTHING_REFERENCED.contains(targetType) ? tables.liveEntry(key) : null;
            if (target != null && referenced.add(key)) {
              out.add(target.current());
            }
          }
        }
      }
    }
    return out;
  }

  /**
   * The current versions a bulk export of {@code types} over {@code scope} writes, per type in
   * the order of {@code types} (creation order within a type; for patient scopes, patient by
   * patient), limited to versions stored at or after {@code since} when given. Patient scopes
   * take only Patient and the compartment types; members that do not exist (any more) are skipped.
   */
  Map<String, List<StoredVersion>> exported(List<String> types, ExportRequest.Scope scope, @Nullable Instant since) {
    List<StoredEntry> patients = null;
    if (scope instanceof ExportRequest.Scope.AllPatients) {
      patients = liveEntries(tables.table("Patient"));
    } else if (scope instanceof ExportRequest.Scope.Members members) {
      TypeTable patientTable = tables.table("Patient");
      patients = new ArrayList<>();
      for (String id : new LinkedHashSet<>(members.patientIds())) {
        StoredEntry patient = patientTable.liveEntry(id);
        if (patient != null) {
          patients.add(patient);
        }
      }
    }
    Map<String, List<StoredVersion>> byType = new LinkedHashMap<>();
    for (String type : types) {
      List<StoredEntry> entries;
      if (patients == null) {
        entries = liveEntries(tables.table(type));
      } else if ("Patient".equals(type)) {
        entries = patients;
      } else if (SearchParams.COMPARTMENT_TYPES.contains(type)) {
        entries = new ArrayList<>();
        for (StoredEntry patient : patients) {
          entries.addAll(sorted(tables.table(type).index("patient").get(patient.type + "/" + patient.id)));
        }
      } else {
        throw new InvalidRequestException("Resource type " + type
            + " is not in the patient compartment (expected one of: Patient, " + String.join(", ",
            SearchParams.COMPARTMENT_TYPES) + ")");
      }
      List<StoredVersion> versions = new ArrayList<>(entries.size());
      for (StoredEntry entry : entries) {
        StoredVersion current = entry.current();
        if (since == null || !current.lastUpdated().isBefore(since)) {
          versions.add(current);
        }
      }
      byType.put(type, versions);
    }
    return byType;
  }

  private static SearchParams.Def referenceParam(String type, Include include, String what) {
    SearchParams.Def def = SearchParams.of(type).get(include.getParamName());
    if (def == null || def.kind() != SearchParams.Kind.REFERENCE) {
      throw new InvalidRequestException("Unsupported " + what + "=" + include.getValue()
          + " (expected: a reference parameter of " + type + ")");
    }
    return def;
  }

  private static List<String> includedParams(String type, Include include) {
    if ("*".equals(include.getValue())) {
      List<String> all = new ArrayList<>();
      SearchParams.of(type).values().forEach(d -> {
        if (d.kind() == SearchParams.Kind.REFERENCE) {
          all.add(d.name());
        }
      });
      return all;
    }
    return type.equals(include.getParamType()) ? List.of(include.getParamName()) : List.of();
  }
}
