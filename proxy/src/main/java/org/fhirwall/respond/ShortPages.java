package org.fhirwall.respond;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.fhirwall.inspect.Inspection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a search page the EPR cut shorter than the {@code _count} fhirwall forwarded: it links to a
 * next page, yet holds fewer resources than it was asked for. Such an EPR breaks the rule that makes
 * a page's links tell nothing of matches it does not show (see {@link FullPages}: a page holding its
 * {@code _count} of matches always links to a next one): its last page, cut as short, may lack a next
 * link where a full one would have it. The cure is the deployment's {@code upstream.max-page-size}
 * (role policies' {@code search.max-count} are then held to it); until it is set, each such page is
 * logged as a warning, at most once every ten minutes. Thread-safe.
 */
final class ShortPages {
  private static final Logger LOG = LoggerFactory.getLogger(ShortPages.class);
  static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);

  private final LongSupplier nanoTime;
  private final AtomicLong nextWarning;

  ShortPages(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.nextWarning = new AtomicLong(nanoTime.getAsLong());
  }

  /**
   * Whether an answer is a search page the EPR cut short: a 2xx Bundle asked to hold {@code pageSize}
   * matches (0: not a search page) that links to a next page and holds fewer resources than that (the
   * Bundle itself aside; entries it includes or contains only make it look fuller, never shorter).
   */
  static boolean isCutShort(int pageSize, int status, Inspection.Read read) {
    return pageSize > 0 && status / 100 == 2 && "Bundle".equals(read.rootType()) && read.hasNextPage()
        && read.resourceCount() - 1 < pageSize;
  }

  /** Checks an answer; true (and a warning, unless one was logged within ten minutes) when the EPR cut it short. */
  boolean check(int pageSize, int status, Inspection.Read read, String requestId) {
    if (!isCutShort(pageSize, status, read)) {
      return false;
    }
    long now = nanoTime.getAsLong();
    long due = nextWarning.get();
    if (now - due >= 0 && nextWarning.compareAndSet(due, now + EVERY_NANOS)) {
      LOG.warn("request {}: the EPR cut a search page to {} resources, fewer than the _count {} fhirwall forwarded, and links "
          + "to more: whether a page links to a next one can then tell of matches it does not show. Set upstream.max-page-size "
          + "to the EPR's largest page (HAPI FHIR JPA: hapi.fhir.max_page_size); roles whose search.max-count is larger are "
          + "then refused (README). Logged at most every 10 minutes.", requestId, read.resourceCount() - 1, pageSize);
    }
    return true;
  }
}
