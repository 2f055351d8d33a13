package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a response discloses. Either fhirwall could read it all, or it could not, and then it
 * must not be released when the interaction may carry patient data.
 */
public sealed interface Inspection {

  /**
   * A fully read response.
   *
   * @param json the body as JSON (the upstream bytes themselves when they were identity-encoded
   *     JSON; otherwise the decoded and converted form); the offsets in {@code urls} refer to it
   * @param patients every patient the body discloses, as canonical keys (see {@link PatientKeys})
   * @param urls the URL-bearing strings that may point at the EPR
   * @param resourceTypes the types of all resources found (top level, entries, contained, nested)
   * @param resourceCount how many resources were found in all
   * @param rootType the type of the top-level resource, null for an empty body or NDJSON
   * @param binaries the ids of the {@code Binary} resources found, wherever they stand (a bulk
   *     export's file is one: whose it is is checked before the answer leaves)
   */
  record Read(byte[] json, Set<String> patients, List<UrlOccurrence> urls, Set<String> resourceTypes, int resourceCount,
      @Nullable String rootType, Set<String> binaries) implements Inspection {
    public Read {
      requireNonNull(json, "json");
      patients = patients instanceof KeySet.Frozen ? patients : Set.copyOf(patients); // a walk's own set is immutable already
      urls = urls instanceof UrlList ? urls : List.copyOf(urls); // a walk's own list is immutable already
      resourceTypes = Set.copyOf(resourceTypes);
      binaries = Set.copyOf(binaries);
    }

    /** A read without Binary resources. */
    public Read(byte[] json, Set<String> patients, List<UrlOccurrence> urls, Set<String> resourceTypes, int resourceCount,
        @Nullable String rootType) {
      this(json, patients, urls, resourceTypes, resourceCount, rootType, Set.of());
    }

    /** A read of a body that names no patient and no URL (an empty body, a bulk manifest). */
    public static Read nothing(byte[] json) {
      return new Read(json, Set.of(), List.of(), Set.of(), 0, null, Set.of());
    }

    /** This read, with the patients a request named added (an answer about them discloses them too). */
    public Read withPatients(Set<String> more) {
      if (patients.containsAll(more)) {
        return this;
      }
      Set<String> all = new java.util.HashSet<>(patients);
      all.addAll(more);
      return new Read(json, all, urls, resourceTypes, resourceCount, rootType, binaries);
    }

    /** Whether a Bundle in the answer links to a next page. */
    public boolean hasNextPage() {
      if (urls instanceof UrlList list) {
        return list.hasRelation("next");
      }
      for (UrlOccurrence u : urls) {
        if ("next".equals(u.linkRelation())) {
          return true;
        }
      }
      return false;
    }

    /**
     * Where URL {@code index} of {@link #urls()} starts (its token's opening quote), without making its
     * occurrence or decoding its value.
     */
    public int urlStart(int index) {
      return urls instanceof UrlList list ? list.start(index) : urls.get(index).start();
    }

    /** Whether URL {@code index} of {@link #urls()} is a Bundle link's, without making its occurrence. */
    public boolean urlIsBundleLink(int index) {
      return urls instanceof UrlList list ? list.isBundleLink(index) : urls.get(index).isBundleLink();
    }
  }

  /** A body fhirwall could not read through; {@code reason} is for the audit log (no patient data). */
  record Unreadable(String reason) implements Inspection {
    public Unreadable {
      requireNonNull(reason, "reason");
    }
  }
}
