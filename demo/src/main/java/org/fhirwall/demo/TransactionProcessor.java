package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntrySearchModeEnum;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IPagingProvider;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.NotImplementedOperationException;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.ReferenceOrListParam;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.util.UrlUtil;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * Runs a batch or transaction Bundle against the store. Entries may GET (read, vread, search,
 * compartment search), POST (create), PUT (update or create) and DELETE; conditional
 * interactions and PATCH are refused. A batch runs entries in order and answers each with its own
 * status; a transaction runs DELETE, POST, PUT, then GET entries as one atomic change (any failure
 * undoes all of it and answers the error), and resolves {@code urn:uuid} fullUrls of created
 * resources in every entry's references. A search entry answers its first page; when there are
 * more, its {@code next} link is a HAPI paging link, like a plain search's.
 */
final class TransactionProcessor {

  private final DemoStore store;
  private final IPagingProvider paging;

  TransactionProcessor(DemoStore store, IPagingProvider paging) {
    this.store = requireNonNull(store, "store");
    this.paging = requireNonNull(paging, "paging");
  }

  Bundle process(Bundle request, RequestDetails details) {
    BundleType type = request.getType();
    if (type == BundleType.TRANSACTION) {
      return store.atomically(() -> run(request, details, true));
    }
    if (type == BundleType.BATCH) {
      return run(request, details, false);
    }
    throw new InvalidRequestException("Bundle.type: " + (type == null ? "missing" : type.toCode())
        + " (expected: batch or transaction)");
  }

  private Bundle run(Bundle request, RequestDetails details, boolean transaction) {
    List<BundleEntryComponent> entries = request.getEntry();
    Map<String, String> assigned = transaction ? assignIds(entries) : Map.of();
    BundleEntryComponent[] answers = new BundleEntryComponent[entries.size()];
    for (int index : order(entries, transaction)) {
      BundleEntryComponent entry = entries.get(index);
      try {
        answers[index] = execute(entry, entry.hasFullUrl() ? assigned.get(entry.getFullUrl()) : null, details);
      } catch (BaseServerResponseException e) {
        if (transaction) {
          throw BaseServerResponseException.newInstance(e.getStatusCode(),
              "Transaction entry " + index + " failed: " + e.getMessage());
        }
        answers[index] = failure(e);
      }
    }
    Bundle response = new Bundle().setType(transaction ? BundleType.TRANSACTIONRESPONSE : BundleType.BATCHRESPONSE);
    for (BundleEntryComponent answer : answers) {
      response.addEntry(answer);
    }
    return response;
  }

  /** Server ids for the transaction's creates named by {@code urn:}, with every reference to them rewritten. */
  private Map<String, String> assignIds(List<BundleEntryComponent> entries) {
    Map<String, String> assigned = new HashMap<>();
    for (BundleEntryComponent entry : entries) {
      if (entry.getRequest().getMethod() == HTTPVerb.POST && entry.hasResource() && entry.hasFullUrl()
          && entry.getFullUrl().startsWith("urn:")) {
        String type = entry.getResource().fhirType();
        assigned.put(entry.getFullUrl(), type + "/" + store.reserveId(type));
      }
    }
    if (!assigned.isEmpty()) {
      for (BundleEntryComponent entry : entries) {
        if (entry.hasResource()) {
          for (Reference reference : store.context().newTerser()
              .getAllPopulatedChildElementsOfType(entry.getResource(), Reference.class)) {
            String target = reference.hasReference() ? assigned.get(reference.getReference()) : null;
            if (target != null) {
              reference.setReference(target);
            }
          }
        }
      }
    }
    return assigned;
  }

  private static List<Integer> order(List<BundleEntryComponent> entries, boolean transaction) {
    List<Integer> order = new ArrayList<>(entries.size());
    List<HTTPVerb> phases = transaction
        ? List.of(HTTPVerb.DELETE, HTTPVerb.POST, HTTPVerb.PUT, HTTPVerb.PATCH, HTTPVerb.GET, HTTPVerb.HEAD, HTTPVerb.NULL)
        : List.of(HTTPVerb.NULL);
    for (HTTPVerb phase : phases) {
      for (int i = 0; i < entries.size(); i++) {
        HTTPVerb method = entries.get(i).getRequest().getMethod();
        HTTPVerb normalized = method == null ? HTTPVerb.NULL : method;
        if (!transaction || normalized == phase) {
          order.add(i);
        }
      }
    }
    return order;
  }

  private BundleEntryComponent execute(BundleEntryComponent entry, @Nullable String assignedKey,
      RequestDetails details) {
    Bundle.BundleEntryRequestComponent request = entry.getRequest();
    HTTPVerb method = request.getMethod();
    if (method == null || !request.hasUrl()) {
      throw new InvalidRequestException("Entry request: method and url are required");
    }
    if (request.hasIfNoneExist() || request.hasIfNoneMatch() || request.hasIfModifiedSince()) {
      throw new NotImplementedOperationException("Conditional interactions are not supported by the demo EPR");
    }
    EntryUrl url = EntryUrl.parse(request.getUrl(), details.getFhirServerBase());
    switch (method) {
      case GET, HEAD:
        return get(url, details);
      case POST: {
        Resource resource = resourceOf(entry, url, 1);
        StoredVersion created = assignedKey != null
            ? store.update(url.type(), assignedKey.substring(assignedKey.indexOf('/') + 1), resource, 0L).version()
            : store.create(resource);
        return written(created, true);
      }
      case PUT: {
        url.requireSegments(2, "PUT Type/id");
        Resource resource = resourceOf(entry, url, 2);
        Long expected = request.hasIfMatch() ? StoredResourceProvider.versionOf(etagValue(request.getIfMatch())) : null;
        DemoStore.Written written = store.update(url.type(), url.segment(1), resource, expected);
        return written(written.version(), written.created());
      }
      case DELETE: {
        url.requireSegments(2, "DELETE Type/id");
        Long expected = request.hasIfMatch() ? StoredResourceProvider.versionOf(etagValue(request.getIfMatch())) : null;
        store.delete(url.type(), url.segment(1), expected);
        BundleEntryComponent answer = new BundleEntryComponent();
        answer.getResponse().setStatus("204 No Content");
        return answer;
      }
      default:
        throw new NotImplementedOperationException(method.toCode() + " entries are not supported by the demo EPR");
    }
  }

  private BundleEntryComponent get(EntryUrl url, RequestDetails details) {
    List<String> path = url.segments();
    if (path.size() == 2 && url.query().isEmpty()) {
      return found(store.read(url.type(), path.get(1)), details);
    }
    if (path.size() == 4 && "_history".equals(path.get(2)) && url.query().isEmpty()) {
      return found(store.vread(url.type(), path.get(1), StoredResourceProvider.versionOf(path.get(3))), details);
    }
    if (path.size() == 1) {
      RawSearch search = RawSearch.parse(store.context(), url.type(), url.query());
      return searched(url.type(), search, Map.of(), details);
    }
    if (path.size() == 3 && "Patient".equals(url.type()) && SearchParams.COMPARTMENT_TYPES.contains(path.get(2))) {
      RawSearch search = RawSearch.parse(store.context(), path.get(2), url.query());
      ReferenceAndListParam patient = new ReferenceAndListParam().addAnd(
          new ReferenceOrListParam().addOr(new ReferenceParam("Patient/" + path.get(1))));
      return searched(path.get(2), search, Map.of("patient", patient), details);
    }
    throw new NotImplementedOperationException("GET " + String.join("/", path)
        + " is not supported in a batch (expected: read, vread, search or Patient compartment search)");
  }

  private BundleEntryComponent searched(String type, RawSearch search,
      Map<String, ReferenceAndListParam> extra, RequestDetails details) {
    Map<String, IQueryParameterAnd<?>> params = new LinkedHashMap<>(search.params());
    params.putAll(extra);
    store.checkIncludes(type, search.includes(), search.revIncludes());
    List<StoredVersion> matches = store.search(type, params);
    String base = details.getFhirServerBase();

    Bundle bundle = new Bundle().setType(BundleType.SEARCHSET).setTotal(matches.size());
    bundle.setId(UUID.randomUUID().toString());
    int pageSize = search.count() == null || search.count() == 0
        ? paging.getDefaultPageSize() : Math.min(search.count(), paging.getMaximumPageSize());
    if (!search.summaryCount()) {
      SearchResults results = new SearchResults(store, matches, search.includes(), search.revIncludes());
      for (var resource : results.getResources(0, pageSize)) {
        Resource copy = (Resource) resource;
        BundleEntrySearchModeEnum mode = ResourceMetadataKeyEnum.ENTRY_SEARCH_MODE.get(copy);
        bundle.addEntry().setFullUrl(base + "/" + copy.fhirType() + "/" + copy.getIdElement().getIdPart())
            .setResource(copy).getSearch().setMode(mode == BundleEntrySearchModeEnum.INCLUDE
                ? Bundle.SearchEntryMode.INCLUDE : Bundle.SearchEntryMode.MATCH);
      }
      if (matches.size() > pageSize) {
        String searchId = paging.storeResultList(details, results);
        if (searchId != null) {
          bundle.addLink().setRelation(Constants.LINK_NEXT).setUrl(base + "?" + Constants.PARAM_PAGINGACTION + "="
              + URLEncoder.encode(searchId, StandardCharsets.UTF_8) + "&" + Constants.PARAM_PAGINGOFFSET + "="
              + pageSize + "&" + Constants.PARAM_COUNT + "=" + pageSize + "&" + Constants.PARAM_BUNDLETYPE + "="
              + BundleType.SEARCHSET.toCode());
        }
      }
    }
    BundleEntryComponent answer = new BundleEntryComponent().setResource(bundle);
    answer.getResponse().setStatus("200 OK");
    return answer;
  }

  private static BundleEntryComponent found(StoredVersion version, RequestDetails details) {
    BundleEntryComponent answer = new BundleEntryComponent()
        .setFullUrl(details.getFhirServerBase() + "/" + version.key()).setResource(version.copy());
    answer.getResponse().setStatus("200 OK").setEtag(etag(version)).setLastModified(Date.from(version.lastUpdated()));
    return answer;
  }

  private static BundleEntryComponent written(StoredVersion version, boolean created) {
    BundleEntryComponent answer = new BundleEntryComponent();
    answer.getResponse().setStatus(created ? "201 Created" : "200 OK")
        .setLocation(version.versionedId().getValue()).setEtag(etag(version))
        .setLastModified(Date.from(version.lastUpdated()));
    return answer;
  }

  private static BundleEntryComponent failure(BaseServerResponseException e) {
    OperationOutcome outcome = new OperationOutcome();
    outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
        .setCode(QuietClientErrors.issueType(e.getStatusCode()))
        .setDiagnostics(e.getMessage());
    BundleEntryComponent answer = new BundleEntryComponent();
    answer.getResponse().setStatus(e.getStatusCode() + " " + reason(e.getStatusCode())).setOutcome(outcome);
    return answer;
  }

  private static Resource resourceOf(BundleEntryComponent entry, EntryUrl url, int segments) {
    url.requireSegments(segments, segments == 1 ? "POST Type" : "PUT Type/id");
    if (!entry.hasResource()) {
      throw new InvalidRequestException("Entry for " + String.join("/", url.segments()) + " has no resource");
    }
    Resource resource = entry.getResource();
    if (!url.type().equals(resource.fhirType())) {
      throw new InvalidRequestException("Entry resource " + resource.fhirType() + " does not match its url's "
          + url.type());
    }
    if (segments == 2 && resource.hasIdElement() && resource.getIdElement().hasIdPart()
        && !url.segment(1).equals(resource.getIdElement().getIdPart())) {
      throw new InvalidRequestException("Entry resource id " + resource.getIdElement().getIdPart()
          + " does not match its url's " + url.segment(1));
    }
    return resource;
  }

  private static String etag(StoredVersion version) {
    return "W/\"" + version.version() + "\"";
  }

  private static String etagValue(String etag) {
    String value = etag.startsWith("W/") ? etag.substring(2) : etag;
    return value.replace("\"", "");
  }

  private static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 412 -> "Precondition Failed";
      case 422 -> "Unprocessable Entity";
      case 501 -> "Not Implemented";
      default -> "Error";
    };
  }

  /** An entry's url: path segments (type first) and decoded query. */
  private record EntryUrl(List<String> segments, Map<String, String[]> query) {

    static EntryUrl parse(String raw, @Nullable String serverBase) {
      String url = raw;
      if (serverBase != null && url.startsWith(serverBase + "/")) {
        url = url.substring(serverBase.length() + 1);
      }
      if (url.startsWith("/")) {
        url = url.substring(1);
      }
      if (url.contains("://")) {
        throw new InvalidRequestException("Entry url " + raw + " is not on this server (expected: a relative url)");
      }
      int question = url.indexOf('?');
      String path = question < 0 ? url : url.substring(0, question);
      Map<String, String[]> query = question < 0 ? Map.of() : UrlUtil.parseQueryString(url.substring(question + 1));
      List<String> segments = List.of(path.split("/"));
      if (segments.isEmpty() || segments.get(0).isEmpty() || !SearchParams.isKnownType(segments.get(0))) {
        throw new InvalidRequestException("Entry url " + raw + " does not name a resource type this server holds");
      }
      return new EntryUrl(segments, query);
    }

    String type() {
      return segments.get(0);
    }

    String segment(int i) {
      return segments.get(i);
    }

    void requireSegments(int count, String expected) {
      if (segments.size() != count || !query.isEmpty()) {
        throw new InvalidRequestException("Entry url " + String.join("/", segments) + " (expected: " + expected + ")");
      }
    }
  }
}
