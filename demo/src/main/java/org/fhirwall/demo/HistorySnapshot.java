package org.fhirwall.demo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A fixed view of a history, newest first: versions {@code [from, to)} of a list that only grows
 * (a type's, a resource's or the whole store's), so the view does not move while the store
 * changes. Read under the store's lock ({@link DemoStore#historyPage}).
 */
record HistorySnapshot(List<StoredVersion> versions, int from, int to) {
  /** The versions of {@code versions} (oldest first) stored at or after {@code since}, all when null. */
  static HistorySnapshot of(List<StoredVersion> versions, @Nullable Instant since) {
    int to = versions.size();
    return new HistorySnapshot(versions, since == null ? 0 : firstAtOrAfter(versions, to, since), to);
  }

  int size() {
    return to - from;
  }

  /** Entries {@code [start, end)}, newest first. */
  List<StoredVersion> page(int start, int end) {
    int first = Math.max(0, start);
    int last = Math.min(end, size());
    List<StoredVersion> page = new ArrayList<>(Math.max(0, last - first));
    for (int i = first; i < last; i++) {
      page.add(versions.get(to - 1 - i));
    }
    return page;
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
