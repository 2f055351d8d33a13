package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a client asks of the EPR, in canonical form: the one value every later stage reasons about,
 * and the only thing fhirwall forwards (it re-serialises this, never the raw request).
 *
 * <ul>
 *   <li>{@code resourceType} is the type the interaction acts on or returns: {@code Observation}
 *       for {@code Patient/1/Observation}, {@code Patient} for {@code Patient/1/$everything}; null
 *       at system level.
 *   <li>{@code compartment} is set for compartment searches ({@code Patient/1} in
 *       {@code Patient/1/Observation?...}).
 *   <li>{@code params} are the decoded parameters in their received order, URL and form body
 *       merged (a parameter present in both is refused before a {@code FhirRequest} exists).
 *   <li>{@code ifNoneExist} holds the criteria of a conditional create.
 *   <li>{@code forwardHeaders} are the client headers that survive (content type, preconditions,
 *       a sanitised {@code Prefer}, trace context); everything else is dropped.
 *   <li>{@code entries} are the classified entries of a batch or transaction, in order.
 *   <li>{@code pageToken} is the opaque paging token of a {@link Interaction#PAGE} request.
 * </ul>
 */
public record FhirRequest(
    Interaction interaction,
    String method,
    @Nullable String resourceType,
    @Nullable String id,
    @Nullable String versionId,
    @Nullable ResourceId compartment,
    @Nullable String operation,
    boolean conditional,
    List<QueryParam> params,
    List<QueryParam> ifNoneExist,
    Format responseFormat,
    boolean pretty,
    boolean respondAsync,
    @Nullable String pageToken,
    List<RawRequest.Header> forwardHeaders,
    List<BundleEntry> entries,
    Body body) {

  /**
   * A request body in the form fhirwall forwards it, with the conditional references it carries (in the order found;
   * empty but for a create, update, patch or operation).
   */
  public record Body(byte[] bytes, @Nullable String contentType, List<ConditionalReference> conditionalReferences,
      Written written) {
    public static final Body EMPTY = new Body(new byte[0], null);

    public Body {
      requireNonNull(bytes, "bytes");
      conditionalReferences = List.copyOf(conditionalReferences);
      requireNonNull(written, "written");
    }

    /** A body without conditional references. */
    public Body(byte[] bytes, @Nullable String contentType) {
      this(bytes, contentType, List.of());
    }

    /** A body that writes no patient's record (a search form, an operation's parameters, a Bundle's own text). */
    public Body(byte[] bytes, @Nullable String contentType, List<ConditionalReference> conditionalReferences) {
      this(bytes, contentType, conditionalReferences, Written.NOTHING);
    }

    public boolean isEmpty() {
      return bytes.length == 0;
    }
  }

  /**
   * The patients a written body makes a record of, as fhirwall reads them before the EPR writes (keys
   * {@code Patient/<id>}): {@code owners}, the patients its Patient-compartment owner elements reference (a Patient's
   * own id), and {@code named}, every patient it references anywhere (owners included). {@code known} is false when
   * fhirwall cannot tell whose record the write makes: an owner element that is no typed reference ({@code urn:uuid:},
   * {@code #contained}, an identifier alone, a URL it cannot read), a new Patient (no id yet), a contained Patient. A
   * patch's {@code owners} are empty: the record it changes is the EPR's, unknown before it answers.
   */
  public record Written(Set<String> owners, Set<String> named, boolean known) {
    /** No record of a patient written: not a create, update or patch. */
    public static final Written NOTHING = new Written(Set.of(), Set.of(), true);

    public Written {
      owners = Set.copyOf(owners);
      named = Set.copyOf(named);
    }
  }

  /**
   * A reference in a written resource that the EPR resolves by searching when it writes
   * ({@code "subject": {"reference": "Patient?identifier=http://x|123"}}): the type it searches and its criteria, read
   * like a query string. Its answer (the one match written in, 412 for several, 404 for none) tells about the records
   * it matched, so the policy judges it like a search of {@code type}.
   *
   * @param written whether the EPR resolves it into something it writes (a {@code reference} member, a patch's value);
   *     false for a search-shaped parameter of an operation ({@code $export}'s {@code _typeFilter}, a {@code url}),
   *     which shows what it finds rather than writing it in
   */
  public record ConditionalReference(String type, List<QueryParam> criteria, boolean written) {
    public ConditionalReference {
      requireNonNull(type, "type");
      criteria = List.copyOf(criteria);
    }

    /** One the EPR resolves into what it writes. */
    public ConditionalReference(String type, List<QueryParam> criteria) {
      this(type, criteria, true);
    }
  }

  /**
   * One entry of a batch or transaction bundle: its position, its {@code fullUrl}, the request it
   * carries (classified as if sent alone), and its resource as JSON (null for GET/DELETE).
   */
  public record BundleEntry(int index, @Nullable String fullUrl, FhirRequest request, @Nullable String resourceJson) {
    public BundleEntry {
      requireNonNull(request, "request");
    }
  }

  public FhirRequest {
    requireNonNull(interaction, "interaction");
    requireNonNull(method, "method");
    params = List.copyOf(params);
    ifNoneExist = List.copyOf(ifNoneExist);
    requireNonNull(responseFormat, "responseFormat");
    forwardHeaders = List.copyOf(forwardHeaders);
    entries = List.copyOf(entries);
    requireNonNull(body, "body");
  }

  /** The first value of the named parameter (exact name match, modifiers included). */
  public Optional<String> param(String name) {
    for (QueryParam p : params) {
      if (p.name().equals(name)) {
        return Optional.of(p.value());
      }
    }
    return Optional.empty();
  }

  /** All parameters with this base name (modifiers and chains ignored). */
  public List<QueryParam> paramsNamed(String baseName) {
    List<QueryParam> found = new ArrayList<>(2);
    for (QueryParam p : params) {
      if (p.baseName().equals(baseName)) {
        found.add(p);
      }
    }
    return found;
  }

  /** This request with its parameters replaced (used by policy rewrites such as a lowered {@code _count}). */
  public FhirRequest withParams(List<QueryParam> newParams) {
    return new FhirRequest(interaction, method, resourceType, id, versionId, compartment, operation,
        conditional, newParams, ifNoneExist, responseFormat, pretty, respondAsync, pageToken,
        forwardHeaders, entries, body);
  }

  /** This request with its bundle entries replaced (each entry rewritten by policy). */
  public FhirRequest withEntries(List<BundleEntry> newEntries) {
    return new FhirRequest(interaction, method, resourceType, id, versionId, compartment, operation,
        conditional, params, ifNoneExist, responseFormat, pretty, respondAsync, pageToken,
        forwardHeaders, newEntries, body);
  }

  /** The value of the first header {@code name} (any case) that survived parsing, empty when none did. */
  public Optional<String> forwardHeader(String name) {
    for (RawRequest.Header h : forwardHeaders) {
      if (h.name().equalsIgnoreCase(name)) {
        return Optional.of(h.value());
      }
    }
    return Optional.empty();
  }

  /** This request with {@code value} as its one {@code If-Match} (a precondition fhirwall adds itself). */
  public FhirRequest withIfMatch(String value) {
    List<RawRequest.Header> headers = new ArrayList<>(forwardHeaders.size() + 1);
    for (RawRequest.Header h : forwardHeaders) {
      if (!h.name().equalsIgnoreCase("If-Match")) {
        headers.add(h);
      }
    }
    headers.add(new RawRequest.Header("If-Match", value));
    return new FhirRequest(interaction, method, resourceType, id, versionId, compartment, operation,
        conditional, params, ifNoneExist, responseFormat, pretty, respondAsync, pageToken,
        headers, entries, body);
  }

  /**
   * This update, patch or delete by id made conditional on {@code criteria} ({@code DELETE Observation?_id=1&patient=
   * Patient/7}): the EPR writes only if a record matches them.
   */
  public FhirRequest conditionalOn(List<QueryParam> criteria) {
    if (!(interaction == Interaction.UPDATE || interaction == Interaction.PATCH || interaction == Interaction.DELETE)
        || conditional) {
      throw new IllegalStateException("not a write by id: " + describe());
    }
    return new FhirRequest(interaction, method, resourceType, null, versionId, compartment, operation,
        true, criteria, ifNoneExist, responseFormat, pretty, respondAsync, pageToken,
        forwardHeaders, entries, body);
  }

  /** A short, patient-free description for logs and audit: {@code GET search-type Observation}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(method).append(' ').append(interaction.code());
    if (resourceType != null) {
      sb.append(' ').append(resourceType);
    }
    if (operation != null) {
      sb.append(" $").append(operation);
    }
    return sb.toString();
  }
}
