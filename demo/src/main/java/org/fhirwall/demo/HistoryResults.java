package org.fhirwall.demo;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.method.ResponsePage;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.InstantType;
import org.jspecify.annotations.Nullable;

/**
 * A history HAPI pages through, newest first, fixed at the moment it was asked for. Lazy: a page
 * copies only its own versions. Thread-safe.
 *
 * <p>HAPI 8.8 pages history by offset ({@code _history?_count=20&_offset=20}): each page request
 * runs the history method again with {@code _offset} and reads this provider from index 0, while
 * {@link #size()} stays the full total so HAPI knows whether a next page exists. So a page starts
 * {@code offset} entries into the snapshot; versions stored after the first page was served push
 * later pages along, as with any offset paging.
 */
final class HistoryResults implements IBundleProvider {

  private final DemoStore store;
  private final HistorySnapshot snapshot;
  private final int offset;
  private final InstantType published = InstantType.withCurrentTime();

  private HistoryResults(DemoStore store, HistorySnapshot snapshot, int offset) {
    this.store = store;
    this.snapshot = snapshot;
    this.offset = offset;
  }

  static HistoryResults of(DemoStore store, HistorySnapshot snapshot, @Nullable Integer offset) {
    if (offset != null && offset < 0) {
      throw new InvalidRequestException("_offset: " + offset + " (expected: >= 0)");
    }
    return new HistoryResults(store, snapshot, offset == null ? 0 : offset);
  }

  @Override
  public List<IBaseResource> getResources(int fromIndex, int toIndex) {
    return getResources(fromIndex, toIndex, new ResponsePage.ResponsePageBuilder());
  }

  @Override
  public List<IBaseResource> getResources(int fromIndex, int toIndex, ResponsePage.ResponsePageBuilder page) {
    List<StoredVersion> versions = store.historyPage(snapshot, offset + fromIndex,
        offset + (int) Math.min(Integer.MAX_VALUE - offset, (long) toIndex));
    List<IBaseResource> out = new ArrayList<>(versions.size());
    for (StoredVersion version : versions) {
      out.add(version.copyForHistory());
    }
    page.setTotalRequestedResourcesFetched(versions.size());
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
    return snapshot.size();
  }
}
