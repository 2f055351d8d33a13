package org.fhirwall.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import org.fhirwall.auth.Principal;
import org.jspecify.annotations.Nullable;

/**
 * Writes an {@link AuditRecord} as one line of JSON holding a FHIR R4 {@code AuditEvent} in the
 * shape of IHE Basic Audit Log Patterns (BALP): type {@code rest} with the interaction as subtype;
 * the user (information recipient: issuer and subject, username, session as {@code altId}, token id
 * as {@code policy}, the role policy in force as {@code role}, network address), the client (Source
 * Role ID) and fhirwall (Destination Role ID) as agents; the request as the first entity (a search's
 * query base64-encoded as BALP's Query entity, any other target as its {@code description}) carrying
 * fhirwall's findings as details; then one entity per disclosed patient.
 *
 * <p>Compact: what an auditor needs, without what repeats on every line. Codings carry system and
 * code, no display; a patient entity is only {@code {"what":{"reference":"Patient/…"}}} (BALP's
 * patient entity codes, type 1 Person and role 1 Patient, are the same for every one and implied);
 * details are written only where they say something: {@code decision} unless allowed, {@code status}
 * unless 200, {@code new-patients} when any, {@code mode} unless {@code enforce}. A read costs about
 * 1 KB, a 50-patient search about 2.9 KB (2.4 KB and 14.7 KB before). The token itself, the
 * token's role list, claims and clinical content are never written.
 *
 * <p>Stateless and thread-safe.
 */
public final class AuditEventJson {

  private static final JsonFactory JSON = new JsonFactory();
  private static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
  private static final String OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role";

  private AuditEventJson() {}

  /** The record as a single line of UTF-8 JSON, newline included. */
  public static byte[] line(AuditRecord r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(768 + r.patients().size() * 40);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      write(g, r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return out.toByteArray();
  }

  private static void write(JsonGenerator g, AuditRecord r) throws IOException {
    g.writeStartObject();
    g.writeStringField("resourceType", "AuditEvent");
    g.writeStringField("id", r.requestId());
    if (r.kind() == AuditRecord.Kind.DECISION) {
      coding(g, "type", "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest");
    } else {
      coding(g, "type", DCM, "110113");
    }
    g.writeArrayFieldStart("subtype");
    codingValue(g, "http://hl7.org/fhir/restful-interaction", r.interaction() != null ? r.interaction() : "unclassified");
    if (r.kind() != AuditRecord.Kind.DECISION) {
      codingValue(g, "https://fhirwall.org/audit-subtype", r.kind().name().toLowerCase(Locale.ROOT));
    }
    g.writeEndArray();
    g.writeStringField("action", action(r));
    g.writeStringField("recorded", r.time().toString());
    g.writeStringField("outcome", switch (r.outcome()) {
      case ALLOWED -> "0";
      case REFUSED, THROTTLED -> "4";
      case FAILED -> "8";
    });
    if (!r.reason().isEmpty()) {
      g.writeStringField("outcomeDesc", r.reason());
    }
    if (r.breakGlassReason() != null) {
      g.writeArrayFieldStart("purposeOfEvent");
      g.writeStartObject();
      g.writeArrayFieldStart("coding");
      codingValue(g, "http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG");
      g.writeEndArray();
      g.writeStringField("text", r.breakGlassReason());
      g.writeEndObject();
      g.writeEndArray();
    }
    agents(g, r);
    g.writeObjectFieldStart("source");
    g.writeObjectFieldStart("observer");
    g.writeStringField("display", "fhirwall");
    g.writeEndObject();
    g.writeEndObject();
    entities(g, r);
    g.writeEndObject();
  }

  private static void agents(JsonGenerator g, AuditRecord r) throws IOException {
    g.writeArrayFieldStart("agent");
    Principal p = r.principal();
    if (p != null) {
      g.writeStartObject();
      concept(g, "type", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP");
      g.writeObjectFieldStart("who");
      g.writeObjectFieldStart("identifier");
      g.writeStringField("system", p.issuer());
      g.writeStringField("value", p.subject());
      g.writeEndObject();
      g.writeStringField("display", p.displayName());
      g.writeEndObject();
      if (p.sessionId() != null) {
        g.writeStringField("altId", p.sessionId());
      }
      g.writeBooleanField("requestor", true);
      if (r.role() != null) {
        g.writeArrayFieldStart("role");
        g.writeStartObject();
        g.writeStringField("text", r.role());
        g.writeEndObject();
        g.writeEndArray();
      }
      g.writeArrayFieldStart("policy");
      g.writeString(p.tokenId());
      g.writeEndArray();
      network(g, r.remoteAddress());
      g.writeEndObject();
      client(g, p.clientId(), false, null);
    } else {
      client(g, "unauthenticated client", true, r.remoteAddress());
    }
    g.writeStartObject();
    concept(g, "type", DCM, "110152");
    g.writeObjectFieldStart("who");
    g.writeStringField("display", "fhirwall");
    g.writeEndObject();
    g.writeBooleanField("requestor", false);
    g.writeEndObject();
    g.writeEndArray();
  }

  private static void client(JsonGenerator g, String name, boolean requestor, @Nullable String address) throws IOException {
    g.writeStartObject();
    concept(g, "type", DCM, "110153");
    g.writeObjectFieldStart("who");
    g.writeStringField("display", name);
    g.writeEndObject();
    g.writeBooleanField("requestor", requestor);
    if (address != null) {
      network(g, address);
    }
    g.writeEndObject();
  }

  private static void entities(JsonGenerator g, AuditRecord r) throws IOException {
    g.writeArrayFieldStart("entity");
    g.writeStartObject();
    String i = r.interaction();
    if (i != null && (i.startsWith("search") || i.startsWith("history"))) {
      coding(g, "role", OBJECT_ROLE, "24");
      g.writeStringField("description", r.method());
      g.writeStringField("query", Base64.getEncoder().encodeToString(r.target().getBytes(StandardCharsets.UTF_8)));
    } else {
      g.writeStringField("description", r.method() + " " + r.target());
    }
    g.writeArrayFieldStart("detail");
    if (r.outcome() != AuditRecord.Outcome.ALLOWED) {
      detail(g, "decision", r.outcome().name().toLowerCase(Locale.ROOT));
    }
    if (r.status() != 200) {
      detail(g, "status", Integer.toString(r.status()));
    }
    if (r.mode() != null && !r.mode().equals("enforce")) {
      detail(g, "mode", r.mode());
    }
    if (r.rule() != null) {
      detail(g, "rule", r.rule());
    }
    if (r.operation() != null) {
      detail(g, "operation", r.operation());
    }
    if (r.newPatients() > 0) {
      detail(g, "new-patients", Integer.toString(r.newPatients()));
    }
    for (Map.Entry<String, Integer> u : r.usage().entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
      detail(g, "usage-" + u.getKey(), Integer.toString(u.getValue()));
    }
    for (String note : r.notes()) {
      detail(g, "note", note);
    }
    if (r.traceparent() != null) {
      detail(g, "traceparent", r.traceparent());
    }
    detail(g, "duration-us", Long.toString(r.durationMicros()));
    g.writeEndArray();
    g.writeEndObject();
    for (String patient : r.patients()) {
      g.writeStartObject();
      g.writeObjectFieldStart("what");
      g.writeStringField(patient.startsWith("Patient/") ? "reference" : "display", patient);
      g.writeEndObject();
      if (r.explainedBy() != null) {
        String by = r.explainedBy().get(patient);
        g.writeArrayFieldStart("detail");
        detail(g, "care-relationship", by == null ? "unexplained" : "explained");
        if (by != null) {
          detail(g, "explained-by", by);
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static String action(AuditRecord r) {
    String i = r.interaction();
    if (i == null) {
      return "E";
    }
    return switch (i) {
      case "create" -> "C";
      case "update", "patch" -> "U";
      case "delete" -> "D";
      case "read", "vread", "search-type", "search-system", "search-compartment", "page",
          "history-instance", "history-type", "history-system", "capabilities" -> "R";
      default -> "E";
    };
  }

  private static void network(JsonGenerator g, String address) throws IOException {
    g.writeObjectFieldStart("network");
    g.writeStringField("address", address);
    g.writeStringField("type", "2");
    g.writeEndObject();
  }

  private static void detail(JsonGenerator g, String type, String value) throws IOException {
    g.writeStartObject();
    g.writeStringField("type", type);
    g.writeStringField("valueString", value);
    g.writeEndObject();
  }

  /** A Coding field. */
  private static void coding(JsonGenerator g, String field, String system, String code) throws IOException {
    g.writeFieldName(field);
    codingValue(g, system, code);
  }

  private static void codingValue(JsonGenerator g, String system, String code) throws IOException {
    g.writeStartObject();
    g.writeStringField("system", system);
    g.writeStringField("code", code);
    g.writeEndObject();
  }

  /** A CodeableConcept field of one coding. */
  private static void concept(JsonGenerator g, String field, String system, String code) throws IOException {
    g.writeObjectFieldStart(field);
    g.writeArrayFieldStart("coding");
    codingValue(g, system, code);
    g.writeEndArray();
    g.writeEndObject();
  }
}
