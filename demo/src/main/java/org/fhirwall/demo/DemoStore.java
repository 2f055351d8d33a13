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
  private final Tables tables;
  private final QueryEvaluator evaluator;
  private final CompartmentReads reads;
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
    this.tables = new Tables(Collections.unmodifiableMap(byType));
    this.evaluator = new QueryEvaluator(this.tables.byType()::get, context);
    this.reads = new CompartmentReads(tables, evaluator);
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
    return tables.byType().keySet();
  }

  /** How many resources of {@code resourceType} exist now (deleted ones excluded; 0 for an unknown type). */
  public int count(String resourceType) {
    TypeTable table = tables.byType().get(resourceType);
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
    TypeTable table = tables.byType().get(resourceType);
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
      return tables.currentOrThrow(type, id).current();
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
    reads.checkIncludes(type, includes, revIncludes);
  }

  /** See {@link CompartmentReads#included}. */
  List<StoredVersion> included(List<StoredVersion> page, Set<Include> includes, Set<Include> revIncludes) {
    if (page.isEmpty() || (includes.isEmpty() && revIncludes.isEmpty())) {
      return List.of();
    }
    lock.readLock().lock();
    try {
      return reads.included(page, includes, revIncludes);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** See {@link CompartmentReads#everything}. */
  List<StoredVersion> everything(@Nullable String patientId) {
    lock.readLock().lock();
    try {
      return reads.everything(patientId);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The resources of one bulk export, read under one lock, and the instant they were current at. */
  record ExportSnapshot(Instant transactionTime, Map<String, List<StoredVersion>> byType) {}

  /** The resources of a bulk export ({@link CompartmentReads#exported}), read under one lock. */
  ExportSnapshot exportSnapshot(List<String> types, ExportRequest.Scope scope, @Nullable Instant since) {
    lock.readLock().lock();
    try {
      Instant now = clock.instant();
      Instant transactionTime = now.isBefore(lastInstant) ? lastInstant : now;
      return new ExportSnapshot(transactionTime, Collections.unmodifiableMap(reads.exported(types, scope, since)));
    } finally {
      lock.readLock().unlock();
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
      return HistorySnapshot.of(versions, since);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Entries {@code [start, end)} of a history snapshot, newest first. */
  List<StoredVersion> historyPage(HistorySnapshot snapshot, int start, int end) {
    lock.readLock().lock();
    try {
      return snapshot.page(start, end);
    } finally {
      lock.readLock().unlock();
    }
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
    return tables.table(type);
  }
}
