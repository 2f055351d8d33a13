package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * The demo EPR's database: every version of every resource, in memory, with its own search
 * indexes (by id per type; for Patient by name, family, given, birthdate, gender, identifier and
 * general practitioner; for clinical types by subject/patient and code; by reference for
 * Encounter participants and Group members) and the patient compartment.
 *
 * <p>Thread-safe: one read-write lock; reads (read, search, history, includes) run concurrently,
 * writes (create, update, delete, a whole transaction) one at a time. Stored resources are never
 * modified once stored; everything handed out is a copy, so HAPI may mark or mutate what it gets.
 * Searches answer lists of versions that were current when they ran, so a paged search stays
 * stable while the store changes. Times come from the injected clock and never go backwards.
 */
public final class DemoStore {

  private final Clock clock;
  private final FhirContext context = FhirContext.forR4Cached();
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, TypeTable> tables;
  private final QueryEvaluator evaluator;
  // Guarded by lock.
  private final List<StoredVersion> systemHistory = new ArrayList<>();
  /** Index values, one String each; only grows, like the rest of a demo store. */
  private final Map<String, String> strings = new HashMap<>();
  private long seq;
  private Instant lastInstant = Instant.EPOCH;
  private @Nullable ArrayDeque<Undo> undo;

  private DemoStore(Clock clock) {
    this.clock = requireNonNull(clock, "clock");
    Map<String, TypeTable> byType = new LinkedHashMap<>();
    SearchParams.ID_PREFIXES.forEach((type, prefix) -> byType.put(type, new TypeTable(type, prefix)));
    this.tables = Collections.unmodifiableMap(byType);
    this.evaluator = new QueryEvaluator(tables::get, context);
  }

  /** An empty store; its resources get their times from {@code clock}. */
  public static DemoStore empty(Clock clock) {
    return new DemoStore(clock);
  }

  /**
   * A store holding {@link SyntheticData#generate(long, int)}'s hospital, each resource at
   * version 1. For 10,000 patients: about 70,000 resources, 2 s of one core and 190 MB of heap.
   */
  public static DemoStore withSyntheticData(long seed, int patients, Clock clock) {
    DemoStore store = new DemoStore(clock);
    // The named clinicians' care relationships were recorded two days ago: older than fhirwall's write delay.
    store.load(CareAssignments.resources(patients), true, new Stamp(clock.instant().minus(java.time.Duration.ofDays(2))));
    store.load(SyntheticData.generate(seed, patients).shared(), true);
    return store;
  }

  /** A store holding copies of {@code data}'s resources at version 1, timed by the system UTC clock. */
  public static DemoStore of(SyntheticData data) {
    return of(data, Clock.systemUTC());
  }

  /** A store holding copies of {@code data}'s resources at version 1. */
  public static DemoStore of(SyntheticData data, Clock clock) {
    DemoStore store = new DemoStore(clock);
    store.load(data.shared(), false);
    return store;
  }

  /** The resource types this store serves. */
  public Set<String> resourceTypes() {
    return tables.keySet();
  }

  /** How many resources of {@code resourceType} exist now (deleted ones excluded; 0 for an unknown type). */
  public int count(String resourceType) {
    TypeTable table = tables.get(resourceType);
    if (table == null) {
      return 0;
    }
    lock.readLock().lock();
    try {
      return table.live();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * {@code n} distinct ids of existing synthetic patients ({@code p1}..{@code pN}), chosen
   * deterministically by {@code seed}: the demo's clinicians and the tests pick their patients here.
   */
  public List<String> samplePatientIds(int n, long seed) {
    int population = count("Patient");
    if (n > population) {
      throw new IllegalArgumentException("n: " + n + " (expected: <= " + population + " patients)");
    }
    java.util.Random random = new java.util.Random(seed);
    java.util.LinkedHashSet<String> ids = new java.util.LinkedHashSet<>();
    for (int tries = 0; ids.size() < n && tries < n * 100; tries++) {
      String id = "p" + (1 + random.nextInt(population));
      if (get("Patient", id).isPresent()) {
        ids.add(id);
      }
    }
    return List.copyOf(ids);
  }

  /** A copy of the current version of a resource; empty when unknown or deleted. */
  public Optional<Resource> get(String resourceType, String id) {
    TypeTable table = tables.get(resourceType);
    if (table == null) {
      return Optional.empty();
    }
    lock.readLock().lock();
    try {
      StoredEntry entry = table.liveEntry(id);
      return entry == null ? Optional.empty() : Optional.of(entry.current().copy());
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---- the interactions, for the demo server (package-private) ----

  /** The current version; 404 when never stored, 410 when deleted. */
  StoredVersion read(String type, String id) {
    lock.readLock().lock();
    try {
      return currentOrThrow(type, id).current();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** One version; 404 when that version does not exist, 410 when it records the deletion. */
  StoredVersion vread(String type, String id, long version) {
    lock.readLock().lock();
    try {
      StoredEntry entry = table(type).byId.get(id);
      if (entry == null || version < 1 || version > entry.versions.size()) {
        throw new ResourceNotFoundException(new IdType(type, id, Long.toString(version)));
      }
      StoredVersion found = entry.versions.get((int) version - 1);
      if (found.deleted()) {
        throw new ResourceGoneException("Resource " + type + "/" + id + " was deleted at version " + version);
      }
      return found;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Stores a new resource under a fresh id of the type's plain form ({@code p10001}). */
  StoredVersion create(Resource resource) {
    lock.writeLock().lock();
    try {
      TypeTable table = table(resource.fhirType());
      return put(table, table.nextFreeId(), resource, false, new Stamp(nextInstant()));
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** A fresh id for a create of {@code type}; never handed out twice, free as long as nobody stores under it. */
  String reserveId(String type) {
    lock.writeLock().lock();
    try {
      return table(type).nextFreeId();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** The outcome of an update: the stored version and whether the update created the resource. */
  record Written(StoredVersion version, boolean created) {}

  /**
   * Stores {@code resource} as the next version of {@code type/id}, creating it (also after a
   * delete) when needed. {@code expectedVersion} (If-Match) must be the current version, else 409.
   */
  Written update(String type, String id, Resource resource, @Nullable Long expectedVersion) {
    if (!type.equals(resource.fhirType())) {
      throw new InvalidRequestException("Resource type " + resource.fhirType() + " does not match the URL's " + type);
    }
    lock.writeLock().lock();
    try {
      TypeTable table = table(type);
      StoredEntry entry = table.byId.get(id);
      checkVersion(entry, type, id, expectedVersion);
      boolean created = entry == null || !entry.live();
      return new Written(put(table, id, resource, false, new Stamp(nextInstant())), created);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Records the deletion of {@code type/id}; null when it was already deleted (nothing changes). 404 when unknown. */
  @Nullable StoredVersion delete(String type, String id, @Nullable Long expectedVersion) {
    lock.writeLock().lock();
    try {
      TypeTable table = table(type);
      StoredEntry entry = table.byId.get(id);
      if (entry == null) {
        throw new ResourceNotFoundException(new IdType(type, id));
      }
      if (!entry.live()) {
        return null;
      }
      checkVersion(entry, type, id, expectedVersion);
      StoredVersion deletion = new StoredVersion(type, id, entry.current().version() + 1, nextInstant(), null, Map.of());
      append(table, entry, deletion);
      return deletion;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Runs {@code work} (which calls this store's write methods) as one atomic change: other
   * threads see all of it or none, and if it throws, every write it made is undone.
   */
  <R> R atomically(Supplier<R> work) {
    lock.writeLock().lock();
    try {
      if (undo != null) {
        return work.get();
      }
      undo = new ArrayDeque<>();
      try {
        R result = work.get();
        undo = null;
        return result;
      } catch (RuntimeException | Error e) {
        rollback();
        throw e;
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** The current versions of the live resources of {@code type} matching every parameter, in creation order. */
  List<StoredVersion> search(String type, Map<String, ? extends IQueryParameterAnd<?>> params) {
    lock.readLock().lock();
    try {
      List<StoredEntry> entries = evaluator.search(table(type), params);
      List<StoredVersion> versions = new ArrayList<>(entries.size());
      for (StoredEntry entry : entries) {
        versions.add(entry.current());
      }
      return versions;
    } finally {
      lock.readLock().unlock();
    }
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
    if (page.isEmpty() || (includes.isEmpty() && revIncludes.isEmpty())) {
      return List.of();
    }
    Set<String> seen = new HashSet<>();
    page.forEach(v -> seen.add(v.key()));
    List<StoredVersion> out = new ArrayList<>();
    lock.readLock().lock();
    try {
      for (Include include : includes) {
        for (StoredVersion version : page) {
          for (String param : includedParams(version.type(), include)) {
            for (String key : version.keys().getOrDefault(param, List.of())) {
              if (include.getParamTargetType() != null && !key.startsWith(include.getParamTargetType() + "/")) {
                continue;
              }
              StoredEntry target = liveEntry(key);
              if (target != null && seen.add(key)) {
                out.add(target.current());
              }
            }
          }
        }
      }
      for (Include include : revIncludes) {
        TypeTable source = tables.get(include.getParamType());
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
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Patient $everything: for one patient ({@code patientId}) or all of them (null), each patient
   * followed by its compartment (Encounter, Observation, Condition, MedicationRequest,
   * DocumentReference) and the Practitioners and Organizations these refer to (each once).
   */
  List<StoredVersion> everything(@Nullable String patientId) {
    lock.readLock().lock();
    try {
      TypeTable patients = table("Patient");
      List<StoredEntry> selected;
      if (patientId != null) {
        selected = List.of(currentOrThrow("Patient", patientId));
      } else {
        selected = evaluator.search(patients, Map.of());
      }
      List<StoredVersion> out = new ArrayList<>();
      Set<String> referenced = new HashSet<>();
      for (StoredEntry patient : selected) {
        int start = out.size();
        out.add(patient.current());
        for (String type : SearchParams.COMPARTMENT_TYPES) {
          for (StoredEntry entry : sorted(table(type).index("patient").get(patient.type + "/" + patient.id))) {
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
              StoredEntry target = SearchParams.EVERYTHING_REFERENCED.contains(targetType) ? liveEntry(key) : null;
              if (target != null && referenced.add(key)) {
                out.add(target.current());
              }
            }
          }
        }
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The resources of one bulk export, read under one lock, and the instant they were current at. */
  record ExportSnapshot(Instant transactionTime, Map<String, List<StoredVersion>> byType) {}

  /**
   * The current versions a bulk export of {@code types} over {@code scope} writes, per type in
   * the order of {@code types} (creation order within a type; for patient scopes, patient by
   * patient), limited to versions stored at or after {@code since} when given. Patient scopes
   * take only Patient and the compartment types; members that do not exist (any more) are skipped.
   */
  ExportSnapshot exportSnapshot(List<String> types, ExportRequest.Scope scope, @Nullable Instant since) {
    lock.readLock().lock();
    try {
      Instant now = clock.instant();
      Instant transactionTime = now.isBefore(lastInstant) ? lastInstant : now;
      List<StoredEntry> patients = null;
      if (scope instanceof ExportRequest.Scope.AllPatients) {
        patients = liveEntries(table("Patient"));
      } else if (scope instanceof ExportRequest.Scope.Members members) {
        TypeTable patientTable = table("Patient");
        patients = new ArrayList<>();
        for (String id : new java.util.LinkedHashSet<>(members.patientIds())) {
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
          entries = liveEntries(table(type));
        } else if ("Patient".equals(type)) {
          entries = patients;
        } else if (SearchParams.COMPARTMENT_TYPES.contains(type)) {
          entries = new ArrayList<>();
          for (StoredEntry patient : patients) {
            entries.addAll(sorted(table(type).index("patient").get(patient.type + "/" + patient.id)));
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
      return new ExportSnapshot(transactionTime, Collections.unmodifiableMap(byType));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A fixed view of a history, newest first; read through {@link #historyPage}. */
  record HistorySnapshot(List<StoredVersion> versions, int from, int to) {
    int size() {
      return to - from;
    }
  }

  /**
   * The history of one resource ({@code type} and {@code id}), one type ({@code id} null) or the
   * whole store (both null), limited to versions stored at or after {@code since} when given.
   */
  HistorySnapshot history(@Nullable String type, @Nullable String id, @Nullable Instant since) {
    lock.readLock().lock();
    try {
      List<StoredVersion> versions;
      if (type == null) {
        versions = systemHistory;
      } else if (id == null) {
        versions = table(type).history;
      } else {
        StoredEntry entry = table(type).byId.get(id);
        if (entry == null) {
          throw new ResourceNotFoundException(new IdType(type, id));
        }
        versions = List.copyOf(entry.versions);
      }
      int to = versions.size();
      int from = since == null ? 0 : firstAtOrAfter(versions, to, since);
      return new HistorySnapshot(versions, from, to);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Entries {@code [start, end)} of a history snapshot, newest first. */
  List<StoredVersion> historyPage(HistorySnapshot snapshot, int start, int end) {
    int from = Math.max(0, start);
    int to = Math.min(end, snapshot.size());
    List<StoredVersion> page = new ArrayList<>(Math.max(0, to - from));
    lock.readLock().lock();
    try {
      for (int i = from; i < to; i++) {
        page.add(snapshot.versions().get(snapshot.to() - 1 - i));
      }
    } finally {
      lock.readLock().unlock();
    }
    return page;
  }

  FhirContext context() {
    return context;
  }

  // ---- internals, all under the lock ----

  private void load(List<Resource> resources, boolean owned) {
    load(resources, owned, null);
  }

  private void load(List<Resource> resources, boolean owned, @Nullable Stamp at) {
    lock.writeLock().lock();
    try {
      Stamp stamp = at != null ? at : new Stamp(nextInstant());
      for (Resource resource : resources) {
        TypeTable table = table(resource.fhirType());
        String id = resource.getIdElement().getIdPart();
        if (id == null || table.byId.containsKey(id)) {
          throw new IllegalArgumentException("Resource id: " + resource.getIdElement().getValue()
              + " (expected: a unique id per type)");
        }
        put(table, id, resource, owned, stamp);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * The time of a write, with the meta elements stamped on what it stores. A bulk load shares
   * one stamp's elements among all its resources: stored resources are never modified, and
   * copies get their own.
   */
  private record Stamp(Instant instant, InstantType lastUpdated, IdType firstVersion) {
    Stamp(Instant instant) {
      this(instant, new InstantType(Date.from(instant)), new IdType("1"));
    }
  }

  private StoredVersion put(TypeTable table, String id, Resource content, boolean owned, Stamp stamp) {
    StoredEntry entry = table.byId.get(id);
    long version = entry == null ? 1 : entry.current().version() + 1;
    Resource stored = owned ? content : content.copy();
    stored.setIdElement(new IdType(table.type, id, Long.toString(version)));
    stored.getMeta().setVersionIdElement(version == 1 ? stamp.firstVersion() : new IdType(Long.toString(version)))
        .setLastUpdatedElement(stamp.lastUpdated());
    StoredVersion next = new StoredVersion(table.type, id, version, stamp.instant(), stored,
        SearchParams.extract(stored, this::canonical));
    append(table, entry, next);
    return next;
  }

  /** One String object per distinct index value (codes and references repeat by the thousand). */
  private String canonical(String value) {
    String known = strings.putIfAbsent(value, value);
    return known == null ? value : known;
  }

  private void append(TypeTable table, @Nullable StoredEntry existing, StoredVersion next) {
    StoredEntry entry = existing;
    boolean created = entry == null;
    if (entry == null) {
      entry = new StoredEntry(table.type, next.id(), ++seq);
      table.byId.put(entry.id, entry);
      table.ordered.add(entry);
    } else if (entry.live()) {
      table.remove(entry.current());
    }
    entry.versions.add(next);
    table.add(next);
    table.history.add(next);
    systemHistory.add(next);
    if (undo != null) {
      undo.push(new Undo(table, entry, created));
    }
  }

  private record Undo(TypeTable table, StoredEntry entry, boolean created) {}

  private void rollback() {
    ArrayDeque<Undo> log = requireNonNull(undo, "undo");
    undo = null;
    while (!log.isEmpty()) {
      Undo step = log.pop();
      StoredEntry entry = step.entry();
      TypeTable table = step.table();
      StoredVersion undone = entry.versions.remove(entry.versions.size() - 1);
      table.remove(undone);
      table.history.remove(table.history.size() - 1);
      systemHistory.remove(systemHistory.size() - 1);
      if (step.created()) {
        table.byId.remove(entry.id);
        table.ordered.remove(table.ordered.size() - 1);
      } else if (entry.live()) {
        table.add(entry.current());
      }
    }
  }

  private StoredEntry currentOrThrow(String type, String id) {
    StoredEntry entry = table(type).byId.get(id);
    if (entry == null) {
      throw new ResourceNotFoundException(new IdType(type, id));
    }
    if (entry.current().deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + id + " was deleted at version "
          + entry.current().version());
    }
    return entry;
  }

  private static void checkVersion(@Nullable StoredEntry entry, String type, String id, @Nullable Long expected) {
    if (expected == null) {
      return;
    }
    long current = entry == null ? 0 : entry.current().version();
    if (current != expected) {
      throw new ResourceVersionConflictException("If-Match version " + expected + " of " + type + "/" + id
          + " is not the current version (expected: " + current + ")");
    }
  }

  private Instant nextInstant() {
    Instant now = clock.instant();
    if (now.isBefore(lastInstant)) {
      now = lastInstant;
    }
    lastInstant = now;
    return now;
  }

  private TypeTable table(String type) {
    TypeTable table = tables.get(type);
    if (table == null) {
      throw new InvalidRequestException("Unknown resource type: " + type + " (expected one of: "
          + String.join(", ", tables.keySet()) + ")");
    }
    return table;
  }

  private @Nullable StoredEntry liveEntry(String key) {
    int slash = key.indexOf('/');
    TypeTable table = slash < 0 ? null : tables.get(key.substring(0, slash));
    return table == null ? null : table.liveEntry(key.substring(slash + 1));
  }

  private static List<StoredEntry> liveEntries(TypeTable table) {
    List<StoredEntry> live = new ArrayList<>(table.live());
    for (StoredEntry entry : table.ordered) {
      if (entry.live()) {
        live.add(entry);
      }
    }
    return live;
  }

  private SearchParams.Def referenceParam(String type, Include include, String what) {
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

  private static List<StoredEntry> sorted(@Nullable EntrySet entries) {
    return entries == null ? List.of() : entries.toList();
  }

  private static int firstAtOrAfter(List<StoredVersion> versions, int size, Instant since) {
    int low = 0;
    int high = size;
    while (low < high) {
      int mid = (low + high) >>> 1;
      if (versions.get(mid).lastUpdated().isBefore(since)) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }
}
