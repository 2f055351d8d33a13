package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.policy.Decision;
import org.fhirwall.policy.RolePolicy;
import org.jspecify.annotations.Nullable;

/**
 * How one allowed request goes to the EPR and how its answer comes back: what is asked upstream
 * (the canonical request without the client's projection, or the EPR's own page target), and how
 * the answer is shaped for the client. Built once the policy has allowed the request. Immutable.
 *
 * @param upstreamRequest the request to forward, projection removed; null when following a page
 * @param pageTarget the EPR's page target (relative to its base) when following a paging link
 * @param projection what the client asked to see of each resource, applied after counting
 * @param searchedType the resource type of the search (carried into paging links)
 * @param pageNumber the page this answer is (1 for the search itself)
 * @param binding what paging links issued in this answer are bound to (principal and session)
 * @param format the format the client asked for
 * @param role the role whose {@code resource-types} bound what the answer may show
 * @param countOnly answer with the count alone (see {@link Decision.Allow#countOnly()})
 * @param releaseTotal a search total may be shown with every page (else only with the last)
 * @param scopedTypes the types the app's SMART scopes grant ({@code *}: all), null when no scope governs the
 *     principal: entries of other types are removed like those the role may not read
 * @param pageSize how many matches a page of this search was asked to hold ({@code _count} as fhirwall
 *     forwarded it, or as the paging link carries it); 0 when unknown or not a search: a page that holds
 *     that many always links to a next one (see {@link FullPages})
 * @param pastTheEnd the request follows fhirwall's own link past the last page: answered with an empty
 *     page, the EPR is not asked
 */
public record Plan(
    @Nullable FhirRequest upstreamRequest,
    @Nullable String pageTarget,
    @Nullable Projection projection,
    @Nullable String searchedType,
    int pageNumber,
    String binding,
    Format format,
    boolean pretty,
    RolePolicy role,
    boolean countOnly,
    boolean releaseTotal,
    boolean bulkManifest,
    boolean binaryAsNdjson,
    @Nullable Set<String> scopedTypes,
    int pageSize,
    boolean pastTheEnd) {

  public Plan {
    if (pageSize < 0) {
      throw new IllegalArgumentException("pageSize: " + pageSize + " (expected: >= 0)");
    }
    if ((upstreamRequest == null) == (pageTarget == null)) {
      throw new IllegalArgumentException("expected exactly one of upstreamRequest and pageTarget");
    }
    requireNonNull(binding, "binding");
    requireNonNull(format, "format");
    requireNonNull(role, "role");
  }

  /** A plan of no known page size that does not follow a link past the end. */
  public Plan(@Nullable FhirRequest upstreamRequest, @Nullable String pageTarget, @Nullable Projection projection,
      @Nullable String searchedType, int pageNumber, String binding, Format format, boolean pretty, RolePolicy role,
      boolean countOnly, boolean releaseTotal, boolean bulkManifest, boolean binaryAsNdjson,
      @Nullable Set<String> scopedTypes) {
    this(upstreamRequest, pageTarget, projection, searchedType, pageNumber, binding, format, pretty, role, countOnly,
        releaseTotal, bulkManifest, binaryAsNdjson, scopedTypes, 0, false);
  }

  /**
   * Whether the request writes a resource that carries conditional references ({@code "subject": {"reference":
   * "Patient?identifier=..."}}), alone, as a transaction's or batch's entry or in an operation's body (a message): the
   * EPR resolves them in turn, and its words when one matched nothing or several name which (see
   * {@link Responder#release}). An operation's search-shaped parameters (an export's {@code _typeFilter}) are not
   * resolved into what is written, and do not count.
   */
  public boolean resolvesConditionalReferences() {
    return upstreamRequest != null && carriesConditionalReferences(upstreamRequest);
  }

  private static boolean carriesConditionalReferences(FhirRequest r) {
    if (r.body().conditionalReferences().stream().anyMatch(FhirRequest.ConditionalReference::written)) {
      return true;
    }
    for (FhirRequest.BundleEntry e : r.entries()) {
      if (carriesConditionalReferences(e.request())) {
        return true;
      }
    }
    return false;
  }

  /** Whether the answer is a batch or transaction response, whose entries may each be a search of their own. */
  public boolean answersABundle() {
    return upstreamRequest != null
        && (upstreamRequest.interaction() == Interaction.BATCH || upstreamRequest.interaction() == Interaction.TRANSACTION);
  }

  /**
   * Whether the client asked a write to be answered without the record ({@code Prefer:
   * return=minimal}): fhirwall asks the EPR for the record all the same, to charge its patients
   * (see {@code CanonicalForm}), and shows the client none of it — the status and where the record
   * is, as the EPR would have answered.
   */
  public boolean answersMinimal() {
    return "minimal".equals(writeReturn());
  }

  /**
   * Whether the client asked a write to be answered with an {@code OperationOutcome} instead of the
   * record ({@code Prefer: return=OperationOutcome}): the EPR is asked for the record all the same
   * (its patients are charged) and the client gets an informational outcome, the status and where
   * the record is.
   */
  public boolean answersOutcome() {
    return "OperationOutcome".equals(writeReturn());
  }

  /**
   * Whether the client asked a batch or transaction to be answered without the records it writes
   * ({@code Prefer: return=minimal}): the EPR is asked for them all the same (their patients are
   * charged), and the entries answering a create, update or patch show the client none
   * ({@link #writeEntries}).
   */
  public boolean entriesMinimal() {
    FhirRequest r = upstreamRequest;
    return r != null && (r.interaction() == Interaction.BATCH || r.interaction() == Interaction.TRANSACTION)
        && "minimal".equals(preferReturn(r));
  }

  /** The positions of a batch's or transaction's entries that create, update or patch (its answer's entries line up). */
  public List<Integer> writeEntries() {
    List<Integer> out = new ArrayList<>();
    FhirRequest r = upstreamRequest;
    if (r != null) {
      List<FhirRequest.BundleEntry> entries = r.entries();
      for (int i = 0; i < entries.size(); i++) {
        Interaction e = entries.get(i).request().interaction();
        if (e == Interaction.CREATE || e == Interaction.UPDATE || e == Interaction.PATCH) {
          out.add(i);
        }
      }
    }
    return out;
  }

  /** The {@code return} preference of a create, update or patch (as the parser normalised it), null otherwise. */
  private @Nullable String writeReturn() {
    FhirRequest r = upstreamRequest;
    if (r == null || !(r.interaction() == Interaction.CREATE || r.interaction() == Interaction.UPDATE
        || r.interaction() == Interaction.PATCH)) {
      return null;
    }
    return preferReturn(r);
  }

  private static @Nullable String preferReturn(FhirRequest r) {
    for (RawRequest.Header h : r.forwardHeaders()) {
      String v = h.value().trim();
      if (h.name().equalsIgnoreCase("Prefer") && v.startsWith("return=")) {
        return v.substring("return=".length());
      }
    }
    return null;
  }

  /** Whether the client may be shown a resource of this type: the role reads it, and the app's SMART scopes (if any) grant it. */
  public boolean shows(String type) {
    return role.allowsType(type) && (scopedTypes == null || scopedTypes.contains("*") || scopedTypes.contains(type));
  }

  /**
   * The plan of an allowed request; {@code page} is the opened paging link when the request follows one;
   * {@code scopedTypes} the types the app's SMART scopes grant (null when none govern the principal).
   */
  public static Plan of(Decision.Allow allow, PageLinks.@Nullable PageLink page, String binding,
      @Nullable Set<String> scopedTypes) {
    FhirRequest r = allow.request();
    // a cancel (DELETE of the status URL) answers with no manifest
    boolean manifest = "export-poll-status".equals(r.operation()) && !"DELETE".equals(r.method());
    boolean ndjsonBinary = r.interaction() == Interaction.READ && "Binary".equals(r.resourceType())
        && r.responseFormat() == Format.NDJSON;
    if (page != null) {
      PageTargets.Split split = PageTargets.split(page.upstreamTarget());
      return new Plan(null, split.target(), split.projection(), page.searchedType(), page.pageNumber(), binding,
          r.responseFormat(), r.pretty(), allow.role(), false, allow.pinned(), false, false, scopedTypes,
          page.pageSize(), page.end());
    }
    return new Plan(withoutProjections(r), null, Projection.of(r.params()), r.resourceType(), 1, binding,
        r.responseFormat(), r.pretty(), allow.role(), allow.countOnly(), allow.pinned(), manifest, ndjsonBinary, scopedTypes,
        allow.countOnly() ? 0 : pageSize(r), false);
  }

  /**
   * The page size of a search as forwarded: the policy always sets {@code _count} (the role's cap when
   * the client sent none), once, in one spelling; 0 for anything else.
   */
  static int pageSize(FhirRequest r) {
    if (!r.interaction().isSearch()) {
      return 0;
    }
    for (org.fhirwall.fhir.QueryParam q : r.params()) {
      if (q.name().equals("_count")) {
        try {
          return Math.max(0, Integer.parseInt(q.value()));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /** The request without the projection parameters, at top level and in every bundle entry. */
  private static FhirRequest withoutProjections(FhirRequest r) {
    FhirRequest out = r.withParams(Projection.without(r.params()));
    if (!r.entries().isEmpty()) {
      List<FhirRequest.BundleEntry> entries = new ArrayList<>(r.entries().size());
      for (FhirRequest.BundleEntry e : r.entries()) {
        entries.add(new FhirRequest.BundleEntry(e.index(), e.fullUrl(), withoutProjections(e.request()), e.resourceJson()));
      }
      out = out.withEntries(entries);
    }
    return out;
  }
}
