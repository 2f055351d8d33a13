package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.FormatConversion;
import org.fhirwall.fhir.OperationOutcomes;
import org.fhirwall.inspect.BinaryContent;
import org.fhirwall.inspect.Inspection;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shapes an EPR answer fhirwall has inspected and charged into what the client receives: EPR URLs
 * and paging links rewritten to fhirwall's own, entries of types the role may not read removed, a
 * resolved count reduced to its total, a total withheld until the last page when it could tell of
 * patients not shown, a full search page given a next link when the EPR gave none and {@code last}
 * links dropped (a page's links tell nothing of matches it does not show), the client's projection applied, a bulk-export Binary unwrapped to its
 * NDJSON, XML for clients that asked for it, and only the allowed EPR headers. Shapes, never
 * decides: what may be released was decided before. Thread-safe.
 */
public final class Responder {
  private static final Logger LOG = LoggerFactory.getLogger(Responder.class);
  private final FhirContext fhir;
  private final FormatConversion formats;
  private final LinkRewriter links;
  private final ShortPages shortPages = new ShortPages(System::nanoTime);

  public Responder(FhirContext fhir, String upstreamBase, String publicBase, org.fhirwall.fhir.PageLinks pageLinks) {
    this.fhir = requireNonNull(fhir, "fhir");
    this.formats = new FormatConversion(fhir);
    this.links = new LinkRewriter(upstreamBase, publicBase, pageLinks);
  }

  /**
   * An inspected EPR answer on its way out.
   *
   * @param contentType the EPR's {@code Content-Type}, null when it sent none
   * @param headers the EPR's headers (only the allowed ones leave)
   */
  public record Outgoing(int status, @Nullable String contentType, List<Map.Entry<String, String>> headers,
      Inspection.Read read, Plan plan, String requestId, Instant now) {
    public Outgoing {
      headers = List.copyOf(headers);
      requireNonNull(read, "read");
      requireNonNull(plan, "plan");
      requireNonNull(requestId, "requestId");
      requireNonNull(now, "now");
    }
  }

  /** A body fhirwall cannot shape for the client (it is then withheld: 502). */
  public static final class Unshapeable extends Exception {
    private static final long serialVersionUID = 1L;

    Unshapeable(String message, @Nullable Throwable cause) {
      super(message, cause, false, false);
    }
  }

  /**
   * Whether shaping {@code out} parses or converts the whole body (projection, XML, a Binary to
   * unwrap, entries to remove, a count to rebuild): work for a bounded pool, not an event loop.
   */
  public boolean isHeavy(Outgoing out) {
    Plan p = out.plan();
    boolean json = isFhirJson(out);
    return p.binaryAsNdjson() && out.status() == 200
        || json && out.status() < 300 && (p.projection() != null || p.format() == Format.XML || p.countOnly()
            || EntryEdits.hasForeignTypes(out.read(), p) || EntryEdits.withholdsNestedTotals(p, out.read().hasNextPage()
            || FullPages.hasSearches(p)) // a batch answer holding searches may get next links: read off the loop
            || p.entriesMinimal() || p.resolvesConditionalReferences() && p.answersABundle());
  }

  /**
   * Whether the answer to a search is a full page of {@code size} matches, or links to more (or
   * cannot be read to tell): all a count resolved from that one page can say is "at least this
   * many". Reads the top-level Bundle's entries, streaming; thread-safe.
   */
  public static boolean fillsAPage(Inspection.Read read, int size) {
    return FullPages.fills(read, size);
  }

  /** The answer the client receives; empty when the body cannot be shaped for it (then withheld). */
  public Optional<Answer> shape(Outgoing out) {
    try {
      return Optional.of(release(out));
    } catch (Unshapeable e) {
      LOG.warn("request {}: response could not be shaped for the client: {}", out.requestId(), e.getMessage());
      return Optional.empty();
    }
  }

  /** The answer the client receives. */
  public Answer release(Outgoing out) throws Unshapeable {
    Plan p = out.plan();
    if (p.answersMinimal() && out.status() / 100 == 2) {
      return answer(out, new byte[0], null); // counted already; the client asked for none of it
    }
    if (p.answersOutcome() && out.status() / 100 == 2) { // counted already; the client asked for an outcome instead
      return answer(out, OperationOutcomes.information("The write succeeded (HTTP " + out.status() + ")", p.format()),
          p.format() == Format.XML ? Format.XML.contentType() : Format.JSON.contentType());
    }
    if (p.resolvesConditionalReferences() && out.status() >= 400) {
      return answer(out, UnresolvedWords.outcome(out.status(), p.format()),
          p.format() == Format.XML ? Format.XML.contentType() : Format.JSON.contentType());
    }
    boolean binary = p.binaryAsNdjson() && out.status() == 200;
    boolean editable = isFhirJson(out) && out.read().json().length > 0 && out.status() < 300;
    // a full search page links to a next page whether the EPR has one or not (see FullPages)
    List<FullPages.Searchset> searchsets = editable && !binary ? FullPages.of(p, out.status(), out.read()) : List.of();
    boolean morePages = out.read().hasNextPage() || FullPages.addsNext(searchsets);
    shortPages.check(p.pageSize(), out.status(), out.read(), out.requestId()); // an EPR that breaks FullPages' rule
    // a withheld total is cut in the same copy as the links are rewritten
    JsonSplicer.Cut total = editable && !binary ? EntryEdits.totalOnly(out.read().json(), p, out.read(), morePages) : null;
    // not copied: the edits are applied as the body is written out, unless a step below needs the bytes
    Body body = links.rewrite(out.read(), new LinkRewriter.PageContext(p.searchedType(), p.pageNumber(), p.binding(),
        out.now(), p.projection() == null ? "" : PageTargets.query(p.projection()),
        p.format() == Format.XML ? "&_format=xml" : "", p.pageSize()), total, searchsets);
    String contentType = contentType(out.contentType(), body.length());
    try {
      if (p.binaryAsNdjson() && out.status() == 200) {
        Optional<BinaryContent.Content> content = BinaryContent.of(body.toArray());
        if (content.isPresent()) {
          return answer(out, content.get().bytes(), content.get().contentType());
        }
      }
      if (isFhirJson(out) && body.length() > 0 && out.status() < 300) {
        if (total == null && EntryEdits.mayChange(p, out.read(), morePages)) {
          body = Body.of(EntryEdits.apply(body.toArray(), p, out.read(), morePages));
        }
        if (p.projection() != null) {
          body = Body.of(p.projection().apply(fhir, body.toArray()));
        }
        if (p.resolvesConditionalReferences() && p.answersABundle()) {
          body = Body.of(UnresolvedWords.inEntries(body.toArray()));
        }
        if (p.format() == Format.XML) {
          return answer(out, formats.jsonToXml(body.toArray(), p.pretty()), Format.XML.contentType());
        }
      }
    } catch (RuntimeException | java.io.IOException e) {
      throw new Unshapeable(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
    return answer(out, body, contentType);
  }

  /**
   * A bulk export's completion manifest (JSON, not a resource: it names files, not patients) read
   * as an answer with its file URLs moved to fhirwall; unreadable when any URL points elsewhere.
   */
  public Inspection manifest(byte[] json) {
    return links.manifest(json).<Inspection>map(Inspection.Read::nothing)
        .orElseGet(() -> new Inspection.Unreadable("bulk-manifest"));
  }

  private Answer answer(Outgoing out, byte[] body, @Nullable String contentType) {
    return answer(out, Body.of(body), contentType);
  }

  private Answer answer(Outgoing out, Body body, @Nullable String contentType) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(8);
    Headers.passed(out.headers(), links::header, headers);
    if (contentType != null && body.length() > 0) {
      headers.add(Map.entry("Content-Type", contentType));
    }
    Headers.standard(headers, out.requestId());
    return new Answer(out.status(), headers, body, false);
  }

  private static boolean isFhirJson(Outgoing out) {
    String ct = out.contentType();
    return ct == null || ct.contains("json") && !ct.contains("ndjson") || ct.contains("xml");
  }

  /** The EPR's content type, JSON where the inspector converted XML to JSON. */
  private static @Nullable String contentType(@Nullable String upstream, int length) {
    if (length == 0) {
      return null;
    }
    if (upstream == null || upstream.contains("xml")) {
      return Format.JSON.contentType();
    }
    return upstream;
  }
}
