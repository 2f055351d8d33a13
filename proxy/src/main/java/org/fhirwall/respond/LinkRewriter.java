package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.UrlOccurrence;
import org.jspecify.annotations.Nullable;

/**
 * Makes every URL in a response that points at the EPR point at fhirwall instead, so a client
 * never learns or uses the EPR's address: the EPR's base is replaced by the public base, and
 * paging links become fhirwall's own signed links ({@code [base]?_fwpage=...}), bound to the
 * principal and the search that produced them. Thread-safe; no I/O.
 */
final class LinkRewriter {
  private static final Set<String> PAGING_RELATIONS = Set.of("next", "previous", "prev", "first", "last");

  private final String upstreamBase;
  private final String publicBase;
  private final PageLinks pageLinks;
  /** The EPR's base as it appears unescaped in a body, and fhirwall's as JSON string content. */
  private final byte[] upstreamBaseBytes;
  private final byte[] publicBaseBytes;
  private final boolean swapsBase;
  /**
   * Whether the EPR's base is swapped and is printable ASCII without a quote or backslash: then a token whose
   * bytes start with it is a value that starts with it (no escape can begin or end inside those bytes).
   */
  private final boolean plainBase;

  LinkRewriter(String upstreamBase, String publicBase, PageLinks pageLinks) {
    this.upstreamBase = requireNonNull(upstreamBase, "upstreamBase");
    this.publicBase = requireNonNull(publicBase, "publicBase");
    this.pageLinks = requireNonNull(pageLinks, "pageLinks");
    this.upstreamBaseBytes = upstreamBase.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] quoted = JsonSplicer.quote(publicBase);
    this.publicBaseBytes = java.util.Arrays.copyOfRange(quoted, 1, quoted.length - 1);
    this.swapsBase = !upstreamBase.equals(publicBase);
    this.plainBase = swapsBase && upstreamBase.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\');
  }

  /**
   * Where the page of a search continues.
   *
   * @param pageSize how many matches a page of the search was asked to hold (0: unknown), carried in its links
   */
  record PageContext(@Nullable String searchedType, int currentPage, String binding, Instant now, String projectionQuery,
      String clientQuery, int pageSize) {
    PageContext(@Nullable String searchedType, int currentPage, String binding, Instant now, String projectionQuery,
        String clientQuery) {
      this(searchedType, currentPage, binding, now, projectionQuery, clientQuery, 0);
    }
  }

  Body rewrite(Inspection.Read read, PageContext page) {
    return rewrite(read, page, null, List.of());
  }

  Body rewrite(Inspection.Read read, PageContext page, JsonSplicer.@Nullable Cut cut) {
    return rewrite(read, page, cut, List.of());
  }

  /**
   * The body with its links rewritten, {@code last} links dropped (see {@link LastLinks}), {@code cut},
   * when there is one, removed, and, when {@code next} says where, a next link of fhirwall's own that
   * leads past the end (see {@link FullPages}): not copied, the edits are applied as the body is written
   * out ({@link Body}). Every paging token of one answer is padded to the size bucket of its longest link,
   * so fhirwall's own next link is as long as the EPR's would have been.
   */
  Body rewrite(Inspection.Read read, PageContext page, JsonSplicer.@Nullable Cut cut, List<FullPages.Searchset> searchsets) {
    List<JsonSplicer.Replacement> replacements = new ArrayList<>();
    List<JsonSplicer.Swap> swaps = new ArrayList<>();
    byte[] json = read.json();
    // A URL that is not a link and starts with the EPR's base as written (most: every entry's fullUrl) has its
    // base swapped by its bytes; the others are made (and their values decoded) once, not once per pass below.
    List<UrlOccurrence> all = read.urls();
    int n = all.size();
    UrlOccurrence[] made = new UrlOccurrence[n]; // null: swapped by its bytes
    List<UrlOccurrence> urls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!plainBase || read.urlIsBundleLink(i) || !startsWithBase(json, read.urlStart(i) + 1)) {
        made[i] = all.get(i);
        urls.add(made[i]);
      }
    }
    int padTo = padTo(urls, page);
    for (FullPages.Searchset s : searchsets) {
      FullPages.Insertion next = s.next();
      if (next != null) {
        String carried = page.projectionQuery().isEmpty() ? "" : "?" + page.projectionQuery();
        // a search inside a batch answer is on its first page, the answer itself on the plan's
        int current = s.nested() ? 1 : page.currentPage();
        String token = pageLinks.wrapEnd(carried, page.searchedType(), current + 1, s.pageSize(), padTo, page.binding(),
            page.now());
        swaps.add(new JsonSplicer.Swap(next.at(), next.at(), next.bytes(publicBase + "?_fwpage=" + token + page.clientQuery())));
      }
    }
    boolean dropsLast = LastLinks.any(urls);
    if (dropsLast) {
      swaps.addAll(LastLinks.cuts(json));
    }
    for (int i = 0; i < n; i++) {
      UrlOccurrence u = made[i];
      if (u == null) { // not a link, the EPR's base written plainly at its start: as below, without decoding it
        int start = read.urlStart(i);
        swaps.add(new JsonSplicer.Swap(start + 1, start + 1 + upstreamBaseBytes.length, publicBaseBytes));
        continue;
      }
      if (dropsLast && "last".equals(u.linkRelation())) {
        continue; // inside a link that is cut
      }
      if (!u.isBundleLink() && swapsBase && startsWithBase(json, u.start() + 1) && u.value().startsWith(upstreamBase)) {
        // the EPR's base written plainly at the start of the token: swap those bytes, leave the rest as it is
        swaps.add(new JsonSplicer.Swap(u.start() + 1, u.start() + 1 + upstreamBaseBytes.length, publicBaseBytes));
        continue;
      }
      String replacement = replacement(u, page, padTo, pageSize(u, page, searchsets));
      if (replacement != null && !replacement.equals(u.value())) {
        replacements.add(new JsonSplicer.Replacement(u, replacement));
      }
    }
    return JsonSplicer.spliced(json, replacements, swaps, cut);
  }

  /** The page size of the search a link belongs to: the innermost searchset around it, else the answer's. */
  private static int pageSize(UrlOccurrence u, PageContext page, List<FullPages.Searchset> searchsets) {
    for (FullPages.Searchset s : searchsets) {
      if (s.nested() && s.from() <= u.start() && u.end() <= s.to()) {
        return s.pageSize();
      }
    }
    return page.pageSize();
  }

  /** The longest page target among the answer's Bundle links (what its tokens are padded to), in bytes. */
  private int padTo(List<UrlOccurrence> urls, PageContext page) {
    int longest = 0;
    for (UrlOccurrence u : urls) {
      String relative = u.isBundleLink() ? relativeToBase(u.value()) : null;
      if (relative != null) {
        longest = Math.max(longest, relative.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
      }
    }
    return longest + page.projectionQuery().length();
  }

  private boolean startsWithBase(byte[] json, int at) {
    return at + upstreamBaseBytes.length <= json.length
        && java.util.Arrays.equals(json, at, at + upstreamBaseBytes.length, upstreamBaseBytes, 0, upstreamBaseBytes.length);
  }

  private @Nullable String replacement(UrlOccurrence u, PageContext page, int padTo, int pageSize) {
    String value = u.value();
    String relative = relativeToBase(value);
    if (u.isBundleLink() && relative != null
        && (PAGING_RELATIONS.contains(u.linkRelation()) || relative.contains("_getpages="))) {
      int number = pageNumber(relative, u.linkRelation(), page.currentPage());
      // the client's projection travels inside the signed link; the EPR never sees it
      String token = pageLinks.wrap(relative + page.projectionQuery(), page.searchedType(), number, pageSize,
          padTo, page.binding(), page.now());
      return publicBase + "?_fwpage=" + token + page.clientQuery();
    }
    if (value.startsWith(upstreamBase)) {
      return publicBase + value.substring(upstreamBase.length());
    }
    return null;
  }

  /** A bulk export manifest with its file URLs moved to fhirwall's base; empty when it cannot be released. */
  java.util.Optional<byte[]> manifest(byte[] json) {
    return org.fhirwall.inspect.BulkManifest.rewrite(json, upstreamBase, publicBase);
  }

  /** A header value (Location, Content-Location) with the EPR's base replaced. */
  String header(String value) {
    if (value.startsWith(upstreamBase)) {
      return publicBase + value.substring(upstreamBase.length());
    }
    return value;
  }

  /**
   * The URL relative to the EPR's (or fhirwall's own) base, without a leading slash, or null when
   * it points elsewhere.
   */
  private @Nullable String relativeToBase(String url) {
    String rest;
    if (url.startsWith(upstreamBase)) {
      rest = url.substring(upstreamBase.length());
    } else if (url.startsWith(publicBase)) {
      rest = url.substring(publicBase.length());
    } else {
      return null;
    }
    if (!rest.isEmpty() && rest.charAt(0) != '/' && rest.charAt(0) != '?') {
      return null;
    }
    return rest.startsWith("/") ? rest.substring(1) : rest;
  }

  /**
   * The page number a link leads to: from HAPI's {@code _getpagesoffset}/{@code _count} when
   * present, else from its relation to the current page.
   */
  static int pageNumber(String relative, @Nullable String relation, int current) {
    long offset = -1;
    long count = -1;
    int q = relative.indexOf('?');
    if (q >= 0) {
      for (String pair : relative.substring(q + 1).split("&")) {
        int eq = pair.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String name = pair.substring(0, eq);
        String v = pair.substring(eq + 1);
        try {
          if (name.equals("_getpagesoffset")) {
            offset = Long.parseLong(v);
          } else if (name.equals("_count")) {
            count = Long.parseLong(v);
          }
        } catch (NumberFormatException e) {
          // not a number: fall back to the relation
        }
      }
    }
    if (offset >= 0 && count > 0) {
      return (int) Math.min(Integer.MAX_VALUE, offset / count + 1);
    }
    if (relation == null) {
      return current + 1;
    }
    return switch (relation) {
      case "first" -> 1;
      case "previous", "prev" -> Math.max(1, current - 1);
      default -> current + 1;
    };
  }
}
