package org.fhirwall.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.model.valueset.BundleEntrySearchModeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.method.ResponsePage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.InstantType;
import org.jspecify.annotations.Nullable;

/**
 * A search result HAPI pages through: the matching versions, fixed when the search ran, and the
 * includes to add to each page. Lazy: a page copies only its own resources and resolves only its
 * own includes (against the store as it is when the page is read). Thread-safe (immutable).
 */
final class SearchResults implements IBundleProvider {

  private final DemoStore store;
  private final List<StoredVersion> matches;
  private final Set<Include> includes;
  private final Set<Include> revIncludes;
  private final InstantType published = InstantType.withCurrentTime();

  /** Takes {@code matches} over: the caller must not change it afterwards. */
  SearchResults(DemoStore store, List<StoredVersion> matches, Set<Include> includes, Set<Include> revIncludes) {
    this.store = store;
    this.matches = Collections.unmodifiableList(matches);
    this.includes = Set.copyOf(includes);
    this.revIncludes = Set.copyOf(revIncludes);
  }

  @Override
  public List<IBaseResource> getResources(int fromIndex, int toIndex) {
    return getResources(fromIndex, toIndex, new ResponsePage.ResponsePageBuilder());
  }

  @Override
  public List<IBaseResource> getResources(int fromIndex, int toIndex, ResponsePage.ResponsePageBuilder page) {
    int from = Math.max(0, Math.min(fromIndex, matches.size()));
    int to = Math.max(from, Math.min(toIndex, matches.size()));
    List<StoredVersion> slice = matches.subList(from, to);
    List<StoredVersion> included = store.included(slice, includes, revIncludes);
    List<IBaseResource> out = new ArrayList<>(slice.size() + included.size());
    for (StoredVersion version : slice) {
      out.add(version.copyForSearch(BundleEntrySearchModeEnum.MATCH));
    }
    for (StoredVersion version : included) {
      out.add(version.copyForSearch(BundleEntrySearchModeEnum.INCLUDE));
    }
    page.setIncludedResourceCount(included.size());
    page.setTotalRequestedResourcesFetched(slice.size());
    return out;
  }

  @Override
  public IPrimitiveType<Date> getPublished() {
    return published;
  }

  @Override
  public @Nullable String getUuid() {
    return null;
  }

  @Override
  public @Nullable Integer preferredPageSize() {
    return null;
  }

  @Override
  public Integer size() {
    return matches.size();
  }
}
