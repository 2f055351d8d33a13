package org.fhirwall.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

class AuditEventJsonTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

  static AuditRecord record(AuditRecord.Outcome outcome, List<String> patients, String breakGlass) {
    Principal p = new Principal(Principal.Kind.USER, "https://idp/realms/h", "sub-1", "alice", "fhirwall-web",
        Set.of("physician"), "1", Set.of("otp"), NOW, "sid-1", Set.of(), null, NOW.plusSeconds(60), "jti-1");
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "req-1", outcome, outcome == AuditRecord.Outcome.ALLOWED ? 200 : 429,
        p, "physician", "enforce", "GET", "search-type", "Observation", null, "Observation?code=x&_count=50", patients,
        patients.size(), Map.of("1h", 12, "24h", 40), outcome == AuditRecord.Outcome.ALLOWED ? null : "patient-limit:1h",
        "", List.of("_count 500 lowered to 50"), breakGlass, "10.0.0.7", "00-abc-def-01", 1234);
  }

  @Test
  void aDecisionIsOneLineHoldingAValidBalpAuditEvent() {
    byte[] line = AuditEventJson.line(record(AuditRecord.Outcome.ALLOWED, List.of("Patient/1", "Patient/2"), null));
    String text = new String(line, StandardCharsets.UTF_8);
    assertThat(text).endsWith("\n").doesNotContain("\n\n");
    assertThat(text.indexOf('\n')).isEqualTo(text.length() - 1);
    FhirContext ctx = FhirContext.forR4Cached();
    AuditEvent e = ctx.newJsonParser().setParserErrorHandler(new StrictErrorHandler()).parseResource(AuditEvent.class, text);
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(e.getSubtypeFirstRep().getCode()).isEqualTo("search-type");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
    assertThat(e.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo("sub-1");
    assertThat(e.getAgentFirstRep().getNetwork().getAddress()).isEqualTo("10.0.0.7");
    assertThat(e.getEntity()).extracting(x -> x.getWhat().getReference()).contains("Patient/1", "Patient/2");
    assertThat(e.getEntityFirstRep().getDetail()).anyMatch(d -> d.getType().equals("usage-1h") && d.getValue().primitiveValue().equals("12"));
  }

  @Test
  void breakGlassIsMarkedAsPurposeOfEvent() {
    String text = new String(AuditEventJson.line(record(AuditRecord.Outcome.ALLOWED, List.of(), "cardiac arrest, bed 4")), StandardCharsets.UTF_8);
    AuditEvent e = FhirContext.forR4Cached().newJsonParser().parseResource(AuditEvent.class, text);
    assertThat(e.getPurposeOfEventFirstRep().getCodingFirstRep().getCode()).isEqualTo("BTG");
    assertThat(e.getPurposeOfEventFirstRep().getText()).isEqualTo("cardiac arrest, bed 4");
  }

  @Test
  void aRefusalIsAMinorFailureWithItsRule() {
    String text = new String(AuditEventJson.line(record(AuditRecord.Outcome.THROTTLED, List.of(), null)), StandardCharsets.UTF_8);
    AuditEvent e = FhirContext.forR4Cached().newJsonParser().parseResource(AuditEvent.class, text);
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
    assertThat(e.getEntityFirstRep().getDetail()).anyMatch(d -> d.getType().equals("rule") && d.getValue().primitiveValue().equals("patient-limit:1h"));
  }

  /** Strings a token, a path or an IdP may carry: quotes, backslashes, controls, non-ASCII, emoji, a lone surrogate. */
  static final List<String> AWKWARD = List.of("plain", "", "quote \" and \\ backslash", "tab\tnew\nline\rcr\bbs\fff",
      "\u0000\u0001\u001f\u007f", "é à ü ß", "中文 日本語", "emoji \uD83D\uDE00 ok", "lone \uD83D high", "lone \uDE00 low",
      "end high \uD83D", "</script><!--", "a".repeat(3000));

  static AuditRecord awkward(String s, int patients) {
    Principal p = new Principal(Principal.Kind.USER, "https://idp/" + s, "sub " + s, s, "client " + s,
        Set.of("physician"), "1", Set.of("otp"), NOW, "sid " + s, Set.of(), null, NOW.plusSeconds(60), "jti " + s);
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < patients; i++) {
      ids.add(i % 2 == 0 ? "Patient/" + i + s : "https://other.example/fhir/Patient/" + i);
    }
    Map<String, String> explained = patients == 0 ? null : Map.of(ids.get(0), "encounter " + s);
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "req " + s, AuditRecord.Outcome.REFUSED, 429, p, "role " + s,
        "report-only", "GET", "search-type", "Patient", "$op" + s, "Patient?name=" + s, ids, patients,
        Map.of("24h", 9, "1h", 3, "7d", 70), "rule " + s, "reason " + s, List.of("note " + s, s), "glass " + s,
        "10.0.0." + s, "00-" + s, 77, explained);
  }

  /**
   * The line is JSON exactly as Jackson writes it (Jackson's own reading and writing of the line
   * gives the same bytes back: same escaping, no space), and every string reads back as given (even
   * a lone surrogate, escaped as Jackson escapes every surrogate).
   */
  @Test
  void awkwardStringsAreEscapedExactlyAsJacksonWouldAndReadBack() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (String s : AWKWARD) {
      for (int patients : new int[] {0, 1, 3}) {
        byte[] line = AuditEventJson.line(awkward(s, patients));
        assertThat(line[line.length - 1]).isEqualTo((byte) '\n');
        byte[] text = java.util.Arrays.copyOf(line, line.length - 1);
        JsonNode tree = json.readTree(text);
        assertThat(new String(json.writeValueAsBytes(tree), StandardCharsets.UTF_8)).as(s)
            .isEqualTo(new String(text, StandardCharsets.UTF_8));
        String expected = s;
        assertThat(tree.path("agent").path(0).path("who").path("display").asText()).isEqualTo(expected);
        assertThat(tree.path("agent").path(0).path("altId").asText()).isEqualTo("sid " + expected);
        assertThat(tree.path("outcomeDesc").asText()).isEqualTo("reason " + expected);
        assertThat(tree.path("purposeOfEvent").path(0).path("text").asText()).isEqualTo("glass " + expected);
        assertThat(tree.path("entity")).hasSize(1 + patients);
        if (patients > 0) {
          assertThat(tree.path("entity").path(1).path("what").path("reference").asText()).isEqualTo("Patient/0" + expected);
          assertThat(tree.path("entity").path(1).path("detail").path(1).path("valueString").asText())
              .isEqualTo("encounter " + expected);
        }
        java.util.List<String> details = new java.util.ArrayList<>();
        tree.path("entity").path(0).path("detail").forEach(d -> details.add(d.path("type").asText()));
        assertThat(details).containsSubsequence("usage-1h", "usage-24h", "usage-7d").contains("mode", "rule", "note");
      }
    }
  }

  /** Every kind of record (not only decisions) is a strict FHIR R4 AuditEvent. */
  @Test
  void everyKindOfRecordIsAStrictAuditEvent() {
    FhirContext ctx = FhirContext.forR4Cached();
    for (AuditRecord.Kind kind : AuditRecord.Kind.values()) {
      AuditRecord d = awkward("x", 2);
      AuditRecord r = new AuditRecord(kind, d.time(), d.requestId(), d.outcome(), d.status(), kind.ordinal() % 2 == 0 ? d.principal() : null,
          d.role(), d.mode(), d.method(), d.interaction(), d.resourceType(), d.operation(), d.target(), d.patients(),
          d.newPatients(), d.usage(), d.rule(), d.reason(), d.notes(), d.breakGlassReason(), d.remoteAddress(),
          d.traceparent(), d.durationMicros(), d.explainedBy());
      String text = new String(AuditEventJson.line(r), StandardCharsets.UTF_8);
      AuditEvent e = ctx.newJsonParser().setParserErrorHandler(new StrictErrorHandler()).parseResource(AuditEvent.class, text);
      assertThat(e.getEntity()).as(kind.name()).hasSize(3);
      assertThat(e.getSubtype()).as(kind.name()).hasSize(kind == AuditRecord.Kind.DECISION ? 1 : 2);
    }
  }

  /** One scratch line reused record after record (the writer's) writes what a fresh one writes, long records included. */
  @Test
  void aReusedScratchWritesWhatAFreshLineWrites() {
    JsonLine scratch = new JsonLine(64);
    for (String s : AWKWARD) {
      for (int patients : new int[] {0, 3, 2000, 1}) {
        AuditRecord r = awkward(s, patients);
        assertThat(AuditEventJson.line(r, scratch)).isEqualTo(AuditEventJson.line(r));
      }
    }
  }
}
