package org.fhirwall.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * fhirwall's own re-serialisation of a {@link FhirRequest}: what it sends to the EPR, built only from
 * the classified values (never from the raw request).
 *
 * <ul>
 *   <li>Targets are relative to the EPR base, without a leading slash ({@code Patient/1},
 *       {@code Observation?code=x}, {@code metadata}, {@code ""} for the base, {@code ?_type=Patient}
 *       for a system search).
 *   <li>Parameters are written {@code name=value} in their order; names as classified (plain ASCII),
 *       values percent-encoded: RFC 3986 unreserved characters and {@code ,} stay literal (HAPI FHIR
 *       splits OR-lists on unescaped commas), every other byte is {@code %XX}, so a {@code \,}
 *       escape arrives intact. {@code _format} and {@code _pretty} are never sent: fhirwall always
 *       asks the EPR for JSON and converts for the client itself.
 *   <li>A {@code POST _search} stays a {@code POST [type]/_search} with the merged parameters as an
 *       {@code application/x-www-form-urlencoded} body: the client chose POST to keep search values
 *       out of URLs and access logs, and long searches must not meet URL length limits.
 *   <li>A batch or transaction Bundle is rebuilt from its (possibly policy-rewritten) entries:
 *       {@code resourceType}, {@code type}, and per entry {@code fullUrl}, {@code resource} and
 *       {@code request} (method, canonical url, preconditions); nothing else of the client's Bundle
 *       is sent.
 *   <li>Headers: the body's Content-Type, the preconditions, a canonical {@code If-None-Exist} for a
 *       conditional create, {@code Prefer} with only {@code return=...} ({@code return=representation}
 *       for a write, see {@link #answersWithTheRecord}; and {@code respond-async}
 *       when the request asked for it and policy let it through), and the trace context.
 * </ul>
 *
 * <p>Round trip: parsing the canonical form under the same base yields the same request, except
 * {@code responseFormat} and {@code pretty}, which are the client's business and never forwarded,
 * and a write's {@code Prefer}, which is always {@code return=representation}.
 * Stateless and thread-safe.
 */
public final class CanonicalForm {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Set<String> PASSED_HEADERS = Set.of("if-match", "if-none-match", "if-modified-since",
      "traceparent", "tracestate", "x-request-id");

  private CanonicalForm() {}

  /**
   * The request to send to the EPR for {@code r}.
   *
   * @throws IllegalArgumentException for a {@link Interaction#PAGE} request (use {@link #of(PageLinks.PageLink)})
   *     or a request missing a field its interaction needs
   */
  public static CanonicalRequest of(FhirRequest r) {
    FhirRequest.Body body = switch (r.interaction()) {
      case BATCH, TRANSACTION -> new FhirRequest.Body(bundleJson(r.interaction(), r.entries()), Format.JSON.contentType());
      case SEARCH_TYPE, SEARCH_SYSTEM, SEARCH_COMPARTMENT -> isPostSearch(r)
          ? formBody(r.params())
          : FhirRequest.Body.EMPTY;
      case PAGE -> throw new IllegalArgumentException("A PAGE request is forwarded through its opened PageLink");
      case READ, VREAD, UPDATE, PATCH, DELETE, CREATE, HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM,
          CAPABILITIES, OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE -> r.body();
    };
    return new CanonicalRequest(r.method(), target(r), headers(r, body), body);
  }

  /** The request to send to the EPR for an opened paging link: GET of the link's upstream target. */
  public static CanonicalRequest of(PageLinks.PageLink link) {
    FhirRequest r = link.request();
    return new CanonicalRequest("GET", link.upstreamTarget(), headers(r, FhirRequest.Body.EMPTY), FhirRequest.Body.EMPTY);
  }

  private static boolean isPostSearch(FhirRequest r) {
    return r.method().equals("POST") && r.interaction().isSearch();
  }

  private static FhirRequest.Body formBody(List<QueryParam> params) {
    if (params.isEmpty()) {
      return FhirRequest.Body.EMPTY;
    }
    return new FhirRequest.Body(QueryCodec.encode(params).getBytes(StandardCharsets.US_ASCII), RequestHeaders.FORM);
  }

  /** The canonical target of {@code r} relative to the EPR base (no leading slash). */
  static String target(FhirRequest r) {
    String path = switch (r.interaction()) {
      case READ -> type(r) + "/" + id(r);
      case VREAD -> type(r) + "/" + id(r) + "/_history/" + need(r.versionId(), "versionId");
      case UPDATE, PATCH, DELETE -> r.conditional() ? type(r) : type(r) + "/" + id(r);
      case CREATE -> type(r);
      case HISTORY_INSTANCE -> type(r) + "/" + id(r) + "/_history";
      case HISTORY_TYPE -> type(r) + "/_history";
      case HISTORY_SYSTEM -> "_history";
      case SEARCH_TYPE -> isPostSearch(r) ? type(r) + "/_search" : type(r);
      case SEARCH_SYSTEM -> isPostSearch(r) ? "_search" : "";
      case SEARCH_COMPARTMENT -> {
        ResourceId c = r.compartment();
        if (c == null) {
          throw new IllegalArgumentException("compartment: null (expected for " + r.interaction().code() + ")");
        }
        yield c.type() + "/" + c.id() + "/" + type(r) + (isPostSearch(r) ? "/_search" : "");
      }
      case CAPABILITIES -> "metadata";
      case BATCH, TRANSACTION -> "";
      case OPERATION_SYSTEM -> "$" + op(r);
      case OPERATION_TYPE -> type(r) + "/$" + op(r);
      case OPERATION_INSTANCE -> type(r) + "/" + id(r) + "/$" + op(r);
      case PAGE -> throw new IllegalArgumentException("A PAGE request is forwarded through its opened PageLink");
    };
    if (isPostSearch(r) || r.params().isEmpty()) {
      return path;
    }
    return path + "?" + QueryCodec.encode(r.params());
  }

  private static String type(FhirRequest r) {
    return need(r.resourceType(), "resourceType");
  }

  private static String id(FhirRequest r) {
    return need(r.id(), "id");
  }

  private static String op(FhirRequest r) {
    return need(r.operation(), "operation");
  }

  private static String need(@Nullable String v, String what) {
    if (v == null) {
      throw new IllegalArgumentException(what + ": null (expected: set for this interaction)");
    }
    return v;
  }

  private static List<RawRequest.Header> headers(FhirRequest r, FhirRequest.Body body) {
    List<RawRequest.Header> out = new ArrayList<>(4);
    if (!body.isEmpty() && body.contentType() != null) {
      out.add(new RawRequest.Header("Content-Type", body.contentType()));
    }
    String preferReturn = null;
    List<RawRequest.Header> after = new ArrayList<>(3);
    for (RawRequest.Header h : r.forwardHeaders()) {
      String name = h.name().toLowerCase(Locale.ROOT);
      if (name.equals("prefer")) {
        preferReturn = h.value().startsWith("return=") ? h.value() : null;
      } else if (name.startsWith("if-")) {
        if (PASSED_HEADERS.contains(name)) {
          out.add(h);
        }
      } else if (PASSED_HEADERS.contains(name)) {
        after.add(h);
      }
    }
    if (r.interaction() == Interaction.CREATE && !r.ifNoneExist().isEmpty()) {
      out.add(new RawRequest.Header("If-None-Exist", QueryCodec.encode(r.ifNoneExist())));
    }
    if (answersWithTheRecord(r)) {
      preferReturn = "return=representation";
    }
    String prefer = preferReturn;
    if (r.respondAsync()) {
      prefer = prefer == null ? "respond-async" : prefer + ", respond-async";
    }
    if (prefer != null) {
      out.add(new RawRequest.Header("Prefer", prefer));
    }
    out.addAll(after);
    return out;
  }

  /**
   * Whether {@code r} is (or holds) a write: its answer is about a record the client may not have
   * seen all of — the record a conditional create, update or patch matched, the patient a conditional
   * reference in the body ({@code Patient?identifier=...}) resolved to, the content a patch's
   * {@code test} operations asked about. The EPR is asked for the record written
   * ({@code Prefer: return=representation}, HAPI FHIR's default, whatever the client preferred; a
   * client's {@code return=minimal} is honoured in the answer, see {@code Plan#answersMinimal}) and
   * fhirwall charges its patients; under {@code return=minimal} the answer would only point at it (a
   * {@code Location}), which for most types names no patient.
   */
  static boolean answersWithTheRecord(FhirRequest r) {
    return switch (r.interaction()) {
      case CREATE, UPDATE, PATCH -> true;
      case BATCH, TRANSACTION -> r.entries().stream().anyMatch(e -> answersWithTheRecord(e.request()));
      case READ, VREAD, DELETE, HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM, SEARCH_TYPE, SEARCH_SYSTEM,
          SEARCH_COMPARTMENT, CAPABILITIES, OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE, PAGE -> false;
    };
  }

  /** The canonical JSON of a batch or transaction Bundle with these entries. */
  static byte[] bundleJson(Interaction type, List<FhirRequest.BundleEntry> entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + entries.size() * 256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "Bundle");
      g.writeStringField("type", type == Interaction.TRANSACTION ? "transaction" : "batch");
      if (!entries.isEmpty()) {
        g.writeArrayFieldStart("entry");
        for (FhirRequest.BundleEntry e : entries) {
          writeEntry(g, e);
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeEntry(JsonGenerator g, FhirRequest.BundleEntry e) throws IOException {
    FhirRequest r = e.request();
    g.writeStartObject();
    if (e.fullUrl() != null) {
      g.writeStringField("fullUrl", e.fullUrl());
    }
    if (e.resourceJson() != null) {
      g.writeFieldName("resource");
      g.writeRawValue(e.resourceJson());
    }
    g.writeObjectFieldStart("request");
    g.writeStringField("method", r.method());
    g.writeStringField("url", target(r));
    writeHeaderField(g, r, "If-None-Match", "ifNoneMatch");
    writeHeaderField(g, r, "If-Modified-Since", "ifModifiedSince");
    writeHeaderField(g, r, "If-Match", "ifMatch");
    if (r.interaction() == Interaction.CREATE && !r.ifNoneExist().isEmpty()) {
      g.writeStringField("ifNoneExist", QueryCodec.encode(r.ifNoneExist()));
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void writeHeaderField(JsonGenerator g, FhirRequest r, String header, String field) throws IOException {
    for (RawRequest.Header h : r.forwardHeaders()) {
      if (h.name().equalsIgnoreCase(header)) {
        g.writeStringField(field, h.value());
        return;
      }
    }
  }
}
