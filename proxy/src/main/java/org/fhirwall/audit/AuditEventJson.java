package org.fhirwall.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.fhirwall.auth.Principal;
import org.jspecify.annotations.Nullable;

/**
 * Writes an {@link AuditRecord} as one line of JSON holding a FHIR R4 {@code AuditEvent} in the
 * shape of IHE Basic Audit Log Patterns (BALP): type {@code rest} with the interaction as subtype,
 * the user, client and fhirwall as agents, the query and each disclosed patient as entities.
 * fhirwall's own findings (decision, rule, role, window usage, notes) are details of the query entity.
 *
 * <p>Stateless and thread-safe.
 */
public final class AuditEventJson {

  private static final JsonFactory JSON = new JsonFactory();
  private static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";

  private AuditEventJson() {}

  /** The record as a single line of UTF-8 JSON, newline included. */
  public static byte[] line(AuditRecord r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024 + r.patients().size() * 96);
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
    coding(g, "type", r.kind() == AuditRecord.Kind.DECISION
        ? new String[] {"http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"}
        : new String[] {DCM, "110113", "Security Alert"});
    g.writeArrayFieldStart("subtype");
    codingValue(g, "http://hl7.org/fhir/restful-interaction",
        r.interaction() != null ? r.interaction() : "unclassified", null);
    if (r.kind() != AuditRecord.Kind.DECISION) {
      codingValue(g, "https://fhirwall.org/audit-subtype", r.kind().name().toLowerCase(java.util.Locale.ROOT), null);
    }
    g.writeEndArray();
    g.writeStringField("action", action(r));
    g.writeStringField("recorded", r.time().toString());
    g.writeStringField("outcome", switch (r.outcome()) {
      case ALLOWED -> "0";
      case REFUSED, THROTTLED -> "4";
      case FAILED -> "8";
    });
    g.writeStringField("outcomeDesc", r.reason().isEmpty() ? r.outcome().name().toLowerCase(java.util.Locale.ROOT) : r.reason());
    if (r.breakGlassReason() != null) {
      g.writeArrayFieldStart("purposeOfEvent");
      g.writeStartObject();
      g.writeArrayFieldStart("coding");
      codingValue(g, "http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG", "break the glass");
      g.writeEndArray();
      g.writeStringField("text", r.breakGlassReason());
      g.writeEndObject();
      g.writeEndArray();
    }

    g.writeArrayFieldStart("agent");
    Principal p = r.principal();
    if (p != null) {
      g.writeStartObject();
      codingObject(g, "type", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", "information recipient");
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
      if (!p.roles().isEmpty()) {
        g.writeArrayFieldStart("role");
        for (String role : p.roles().stream().sorted().toList()) {
          g.writeStartObject();
          g.writeStringField("text", role);
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeArrayFieldStart("policy");
      g.writeString(p.tokenId());
      g.writeEndArray();
      network(g, r.remoteAddress());
      g.writeEndObject();

      g.writeStartObject();
      codingObject(g, "type", DCM, "110153", "Source Role ID");
      g.writeObjectFieldStart("who");
      g.writeObjectFieldStart("identifier");
      g.writeStringField("value", p.clientId());
      g.writeEndObject();
      g.writeEndObject();
      g.writeBooleanField("requestor", false);
      g.writeEndObject();
    } else {
      g.writeStartObject();
      codingObject(g, "type", DCM, "110153", "Source Role ID");
      g.writeObjectFieldStart("who");
      g.writeStringField("display", "unauthenticated client");
      g.writeEndObject();
      g.writeBooleanField("requestor", true);
      network(g, r.remoteAddress());
      g.writeEndObject();
    }
    g.writeStartObject();
    codingObject(g, "type", DCM, "110152", "Destination Role ID");
    g.writeObjectFieldStart("who");
    g.writeStringField("display", "fhirwall");
    g.writeEndObject();
    g.writeBooleanField("requestor", false);
    g.writeEndObject();
    g.writeEndArray();

    g.writeObjectFieldStart("source");
    g.writeObjectFieldStart("observer");
    g.writeStringField("display", "fhirwall");
    g.writeEndObject();
    g.writeArrayFieldStart("type");
    codingValue(g, "http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server");
    g.writeEndArray();
    g.writeEndObject();

    g.writeArrayFieldStart("entity");
    g.writeStartObject();
    codingObjectPlain(g, "type", "http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object");
    codingObjectPlain(g, "role", "http://terminology.hl7.org/CodeSystem/object-role", "24", "Query");
    g.writeStringField("description", r.method() + " " + r.target());
    g.writeStringField("query", Base64.getEncoder().encodeToString(r.target().getBytes(StandardCharsets.UTF_8)));
    g.writeArrayFieldStart("detail");
    detail(g, "decision", r.outcome().name().toLowerCase(java.util.Locale.ROOT));
    detail(g, "status", Integer.toString(r.status()));
    if (r.role() != null) {
      detail(g, "role-policy", r.role());
    }
    if (r.mode() != null) {
      detail(g, "mode", r.mode());
    }
    if (r.rule() != null) {
      detail(g, "rule", r.rule());
    }
    if (r.resourceType() != null) {
      detail(g, "resource-type", r.resourceType());
    }
    if (r.operation() != null) {
      detail(g, "operation", r.operation());
    }
    detail(g, "patients", Integer.toString(r.patients().size()));
    detail(g, "new-patients", Integer.toString(r.newPatients()));
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
      if (patient.startsWith("Patient/")) {
        g.writeStringField("reference", patient);
      } else {
        g.writeStringField("display", patient);
      }
      g.writeEndObject();
      codingObjectPlain(g, "type", "http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person");
      codingObjectPlain(g, "role", "http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient");
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
    g.writeEndObject();
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

  private static void coding(JsonGenerator g, String field, String[] c) throws IOException {
    g.writeFieldName(field);
    codingValue(g, c[0], c[1], c[2]);
  }

  private static void codingValue(JsonGenerator g, String system, String code, @Nullable String display) throws IOException {
    g.writeStartObject();
    g.writeStringField("system", system);
    g.writeStringField("code", code);
    if (display != null) {
      g.writeStringField("display", display);
    }
    g.writeEndObject();
  }

  /** A CodeableConcept field. */
  private static void codingObject(JsonGenerator g, String field, String system, String code, String display) throws IOException {
    g.writeObjectFieldStart(field);
    g.writeArrayFieldStart("coding");
    codingValue(g, system, code, display);
    g.writeEndArray();
    g.writeEndObject();
  }

  /** A Coding field. */
  private static void codingObjectPlain(JsonGenerator g, String field, String system, String code, String display) throws IOException {
    g.writeFieldName(field);
    codingValue(g, system, code, display);
  }
}
