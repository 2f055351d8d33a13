package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * The interactions every demo resource type has, over a {@link DemoStore}: read, vread, create,
 * update (also creating under a client-chosen id, and honouring If-Match), delete, and instance
 * and type history. Subclasses add the type's search. Thread-safe (the store is).
 */
abstract class StoredResourceProvider<T extends Resource> implements IResourceProvider {

  final DemoStore store;
  private final Class<T> resourceClass;
  final String type;

  StoredResourceProvider(DemoStore store, Class<T> resourceClass) {
    this.store = requireNonNull(store, "store");
    this.resourceClass = requireNonNull(resourceClass, "resourceClass");
    this.type = store.context().getResourceType(resourceClass);
  }

  @Override
  public Class<T> getResourceType() {
    return resourceClass;
  }

  @Read(version = true)
  public Resource read(@IdParam IdType id) {
    StoredVersion version = id.hasVersionIdPart()
        ? store.vread(type, id.getIdPart(), versionOf(id.getVersionIdPart()))
        : store.read(type, id.getIdPart());
    return version.copy();
  }

  @Create
  public MethodOutcome create(@ResourceParam T resource) {
    StoredVersion version = store.create(resource);
    return outcome(version, true);
  }

  @Update
  public MethodOutcome update(@IdParam IdType id, @ResourceParam T resource) {
    Long expected = id.hasVersionIdPart() ? versionOf(id.getVersionIdPart()) : null;
    DemoStore.Written written = store.update(type, id.getIdPart(), resource, expected);
    return outcome(written.version(), written.created());
  }

  @Delete
  public MethodOutcome delete(@IdParam IdType id) {
    Long expected = id.hasVersionIdPart() ? versionOf(id.getVersionIdPart()) : null;
    StoredVersion deletion = store.delete(type, id.getIdPart(), expected);
    MethodOutcome outcome = new MethodOutcome();
    if (deletion != null) {
      outcome.setId(deletion.versionedId());
    }
    return outcome;
  }

  /** Instance history. HAPI pages history by {@code _offset} (its history binding is offset-mode), hence the offset. */
  @History
  public IBundleProvider instanceHistory(@IdParam IdType id, @Since @Nullable Date since,
      @Offset @Nullable Integer offset) {
    return HistoryResults.of(store, store.history(type, id.getIdPart(), since == null ? null : since.toInstant()), offset);
  }

  @History
  public IBundleProvider typeHistory(@Since @Nullable Date since, @Offset @Nullable Integer offset) {
    return HistoryResults.of(store, store.history(type, null, since == null ? null : since.toInstant()), offset);
  }

  /**
   * Runs a search of {@code searchedType}; {@code params} holds only the parameters the request
   * carried. Search methods accept unknown parameters only to refuse them here with a clear 400
   * (HAPI's own refusal logs a WARN line per request).
   */
  final IBundleProvider search(String searchedType, @Nullable Map<String, List<String>> unknown,
      Map<String, IQueryParameterAnd<?>> params, @Nullable Set<Include> includes, @Nullable Set<Include> revIncludes) {
    if (unknown != null && !unknown.isEmpty()) {
      throw new InvalidRequestException("Unknown search parameter" + (unknown.size() > 1 ? "s " : " ")
          + String.join(", ", new TreeSet<>(unknown.keySet())) + " for " + searchedType + " (expected one of: _id, "
          + String.join(", ", SearchParams.of(searchedType).keySet()) + ")");
    }
    Set<Include> forward = includes == null ? Set.of() : includes;
    Set<Include> reverse = revIncludes == null ? Set.of() : revIncludes;
    store.checkIncludes(searchedType, forward, reverse);
    return new SearchResults(store, store.search(searchedType, params), forward, reverse);
  }

  final IBundleProvider search(@Nullable Map<String, List<String>> unknown, Map<String, IQueryParameterAnd<?>> params,
      @Nullable Set<Include> includes, @Nullable Set<Include> revIncludes) {
    return search(type, unknown, params, includes, revIncludes);
  }

  /** The non-null parameters of a search method, by name: {@code params("name", name, "gender", gender)}. */
  static Map<String, IQueryParameterAnd<?>> params(@Nullable Object... namesAndValues) {
    Map<String, IQueryParameterAnd<?>> params = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      Object value = namesAndValues[i + 1];
      if (value != null) {
        params.put((String) requireNonNull(namesAndValues[i], "name"), (IQueryParameterAnd<?>) value);
      }
    }
    return params;
  }

  static MethodOutcome outcome(StoredVersion version, boolean created) {
    MethodOutcome outcome = new MethodOutcome(version.versionedId(), created);
    outcome.setResource(version.copy());
    return outcome;
  }

  static long versionOf(String versionId) {
    try {
      return Long.parseLong(versionId);
    } catch (NumberFormatException e) {
      throw new InvalidRequestException("Version: " + versionId + " (expected: a whole number)");
    }
  }
}
