package org.fhirwall.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
 * <p>Written with {@link JsonLine}: names and the codings that never change are encoded once, only
 * the record's own strings are escaped (the writer thread spends its time here and in the file).
 *
 * <p>Stateless and thread-safe.
 */
public final class AuditEventJson {
  private static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";

  private static final byte[] RESOURCE_TYPE = JsonLine.name("resourceType");
  private static final byte[] AUDIT_EVENT = JsonLine.constant("\"AuditEvent\"");
  private static final byte[] ID = JsonLine.name("id");
  private static final byte[] TYPE = JsonLine.name("type");
  private static final byte[] TYPE_REST = coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest");
  private static final byte[] TYPE_APPLICATION_ACTIVITY = coding(DCM, "110113");
  private static final byte[] SUBTYPE = JsonLine.name("subtype");
  private static final byte[] SYSTEM = JsonLine.name("system");
  private static final byte[] CODE = JsonLine.name("code");
  private static final byte[] INTERACTION_SYSTEM = JsonLine.constant("\"http://hl7.org/fhir/restful-interaction\"");
  private static final byte[] FHIRWALL_SUBTYPE_SYSTEM = JsonLine.constant("\"https://fhirwall.org/audit-subtype\"");
  private static final byte[] ACTION = JsonLine.name("action");
  private static final byte[] RECORDED = JsonLine.name("recorded");
  private static final byte[] OUTCOME = JsonLine.name("outcome");
  private static final byte[] OUTCOME_DESC = JsonLine.name("outcomeDesc");
  private static final byte[] PURPOSE_OF_EVENT = JsonLine.name("purposeOfEvent");
  private static final byte[] CODING = JsonLine.name("coding");
  private static final byte[] BREAK_THE_GLASS = coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG");
  private static final byte[] TEXT = JsonLine.name("text");
  private static final byte[] AGENT = JsonLine.name("agent");
  private static final byte[] USER_TYPE = concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP");
  private static final byte[] SOURCE_ROLE_TYPE = concept(DCM, "110153");
  private static final byte[] DESTINATION_ROLE_TYPE = concept(DCM, "110152");
  private static final byte[] WHO = JsonLine.name("who");
  private static final byte[] IDENTIFIER = JsonLine.name("identifier");
  private static final byte[] VALUE = JsonLine.name("value");
  private static final byte[] DISPLAY = JsonLine.name("display");
  private static final byte[] ALT_ID = JsonLine.name("altId");
  private static final byte[] REQUESTOR = JsonLine.name("requestor");
  private static final byte[] ROLE = JsonLine.name("role");
  private static final byte[] POLICY = JsonLine.name("policy");
  private static final byte[] NETWORK = JsonLine.name("network");
  private static final byte[] ADDRESS = JsonLine.name("address");
  private static final byte[] ADDRESS_TYPE_IP = JsonLine.constant("\"2\"");
  private static final byte[] FHIRWALL_WHO = JsonLine.constant("{\"display\":\"fhirwall\"}");
  private static final byte[] SOURCE = JsonLine.name("source");
  private static final byte[] SOURCE_VALUE = JsonLine.constant("{\"observer\":{\"display\":\"fhirwall\"}}");
  private static final byte[] ENTITY = JsonLine.name("entity");
  private static final byte[] QUERY_ROLE = coding("http://terminology.hl7.org/CodeSystem/object-role", "24");
  private static final byte[] DESCRIPTION = JsonLine.name("description");
  private static final byte[] QUERY = JsonLine.name("query");
  private static final byte[] DETAIL = JsonLine.name("detail");
  private static final byte[] VALUE_STRING = JsonLine.name("valueString");
  private static final byte[] WHAT = JsonLine.name("what");
  private static final byte[] REFERENCE = JsonLine.name("reference");

  private AuditEventJson() {}

  /** The record as a single line of UTF-8 JSON, newline included. */
  public static byte[] line(AuditRecord r) {
    return line(r, new JsonLine(1536 + r.patients().size() * (r.explainedBy() != null ? 160 : 48)));
  }

  /** The same, written in {@code scratch} (emptied first; the audit writer keeps one from record to record). */
  static byte[] line(AuditRecord r, JsonLine scratch) {
    scratch.reset();
    write(scratch, r);
    return scratch.toLine();
  }

  private static void write(JsonLine g, AuditRecord r) {
    g.startObject();
    g.field(RESOURCE_TYPE).value(AUDIT_EVENT);
    g.field(ID, r.requestId());
    g.field(TYPE).value(r.kind() == AuditRecord.Kind.DECISION ? TYPE_REST : TYPE_APPLICATION_ACTIVITY);
    g.field(SUBTYPE).startArray();
    codingValue(g, INTERACTION_SYSTEM, r.interaction() != null ? r.interaction() : "unclassified");
    if (r.kind() != AuditRecord.Kind.DECISION) {
      codingValue(g, FHIRWALL_SUBTYPE_SYSTEM, r.kind().name().toLowerCase(Locale.ROOT));
    }
    g.endArray();
    g.field(ACTION, action(r));
    g.field(RECORDED, r.time().toString());
    g.field(OUTCOME, switch (r.outcome()) {
      case ALLOWED -> "0";
      case REFUSED, THROTTLED -> "4";
      case FAILED -> "8";
    });
    if (!r.reason().isEmpty()) {
      g.field(OUTCOME_DESC, r.reason());
    }
    if (r.breakGlassReason() != null) {
      g.field(PURPOSE_OF_EVENT).startArray().startObject();
      g.field(CODING).startArray().value(BREAK_THE_GLASS).endArray();
      g.field(TEXT, r.breakGlassReason());
      g.endObject().endArray();
    }
    agents(g, r);
    g.field(SOURCE).value(SOURCE_VALUE);
    entities(g, r);
    g.endObject();
  }

  private static void agents(JsonLine g, AuditRecord r) {
    g.field(AGENT).startArray();
    Principal p = r.principal();
    if (p != null) {
      g.startObject();
      g.field(TYPE).value(USER_TYPE);
      g.field(WHO).startObject();
      g.field(IDENTIFIER).startObject();
      g.field(SYSTEM, p.issuer());
      g.field(VALUE, p.subject());
      g.endObject();
      g.field(DISPLAY, p.displayName());
      g.endObject();
      if (p.sessionId() != null) {
        g.field(ALT_ID, p.sessionId());
      }
      g.field(REQUESTOR).value(true);
      if (r.role() != null) {
        g.field(ROLE).startArray().startObject().field(TEXT, r.role()).endObject().endArray();
      }
      g.field(POLICY).startArray().value(p.tokenId()).endArray();
      network(g, r.remoteAddress());
      g.endObject();
      client(g, p.clientId(), false, null);
    } else {
      client(g, "unauthenticated client", true, r.remoteAddress());
    }
    g.startObject();
    g.field(TYPE).value(DESTINATION_ROLE_TYPE);
    g.field(WHO).value(FHIRWALL_WHO);
    g.field(REQUESTOR).value(false);
    g.endObject();
    g.endArray();
  }

  private static void client(JsonLine g, String name, boolean requestor, @Nullable String address) {
    g.startObject();
    g.field(TYPE).value(SOURCE_ROLE_TYPE);
    g.field(WHO).startObject().field(DISPLAY, name).endObject();
    g.field(REQUESTOR).value(requestor);
    if (address != null) {
      network(g, address);
    }
    g.endObject();
  }

  private static void entities(JsonLine g, AuditRecord r) {
    g.field(ENTITY).startArray();
    g.startObject();
    String i = r.interaction();
    if (i != null && (i.startsWith("search") || i.startsWith("history"))) {
      g.field(ROLE).value(QUERY_ROLE);
      g.field(DESCRIPTION, r.method());
      g.field(QUERY, Base64.getEncoder().encodeToString(r.target().getBytes(StandardCharsets.UTF_8)));
    } else {
      g.field(DESCRIPTION, r.method() + " " + r.target());
    }
    g.field(DETAIL).startArray();
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
    Map<String, Integer> usage = r.usage();
    if (!usage.isEmpty()) {
      String[] windows = usage.keySet().toArray(new String[0]);
      Arrays.sort(windows);
      for (String window : windows) {
        detail(g, "usage-" + window, Integer.toString(usage.get(window)));
      }
    }
    for (String note : r.notes()) {
      detail(g, "note", note);
    }
    if (r.traceparent() != null) {
      detail(g, "traceparent", r.traceparent());
    }
    detail(g, "duration-us", Long.toString(r.durationMicros()));
    g.endArray();
    g.endObject();
    Map<String, String> explained = r.explainedBy();
    for (String patient : r.patients()) {
      g.startObject();
      g.field(WHAT).startObject().field(patient.startsWith("Patient/") ? REFERENCE : DISPLAY, patient).endObject();
      if (explained != null) {
        String by = explained.get(patient);
        g.field(DETAIL).startArray();
        detail(g, "care-relationship", by == null ? "unexplained" : "explained");
        if (by != null) {
          detail(g, "explained-by", by);
        }
        g.endArray();
      }
      g.endObject();
    }
    g.endArray();
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

  private static void network(JsonLine g, String address) {
    g.field(NETWORK).startObject().field(ADDRESS, address).field(TYPE).value(ADDRESS_TYPE_IP).endObject();
  }

  private static void detail(JsonLine g, String type, String value) {
    g.startObject().field(TYPE, type).field(VALUE_STRING, value).endObject();
  }

  private static void codingValue(JsonLine g, byte[] system, String code) {
    g.startObject().field(SYSTEM).value(system).field(CODE, code).endObject();
  }

  /** A Coding of constant system and code, encoded once. */
  private static byte[] coding(String system, String code) {
    return JsonLine.constant("{\"system\":\"" + system + "\",\"code\":\"" + code + "\"}");
  }

  /** A CodeableConcept of one constant coding, encoded once. */
  private static byte[] concept(String system, String code) {
    return JsonLine.constant("{\"coding\":[{\"system\":\"" + system + "\",\"code\":\"" + code + "\"}]}");
  }
}
