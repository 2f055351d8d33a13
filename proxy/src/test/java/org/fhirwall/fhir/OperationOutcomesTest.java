package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OperationOutcomesTest {

  private static OperationOutcome parse(byte[] bytes, Format format) {
    IParser parser = format == Format.XML ? Requests.CTX.newXmlParser() : Requests.CTX.newJsonParser();
    parser.setParserErrorHandler(new StrictErrorHandler());
    return parser.parseResource(OperationOutcome.class, new String(bytes, StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @EnumSource(Format.class)
  void rendersAnOperationOutcomeHapiReads(Format format) {
    Refusal refusal = Refusal.of(403, IssueType.FORBIDDEN, "Role nurse may not access Observation resources");
    OperationOutcome oo = parse(OperationOutcomes.render(refusal, format), format);
    assertThat(oo.getIssue()).hasSize(1);
    OperationOutcome.OperationOutcomeIssueComponent issue = oo.getIssueFirstRep();
    assertThat(issue.getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
    assertThat(issue.getCode().toCode()).isEqualTo("forbidden");
    assertThat(issue.getDiagnostics()).isEqualTo("Role nurse may not access Observation resources");
  }

  @ParameterizedTest
  @EnumSource(IssueType.class)
  void everyIssueCodeIsAFhirCode(IssueType code) {
    for (Format f : Format.values()) {
      OperationOutcome oo = parse(OperationOutcomes.render(Refusal.of(400, code, "x"), f), f);
      assertThat(oo.getIssueFirstRep().getCode().toCode()).isEqualTo(code.code());
    }
  }

  @ParameterizedTest
  @EnumSource(Format.class)
  void escapesMarkupAndQuotes(Format format) {
    String nasty = "a \"quoted\" <tag attr='v'> & \\ back\\slash\nnew line\ttab\r é 🏥 ]]> </diagnostics> \u2028";
    OperationOutcome oo = parse(OperationOutcomes.render(Refusal.of(400, IssueType.INVALID, nasty), format), format);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).isEqualTo(nasty);
  }

  @ParameterizedTest
  @EnumSource(Format.class)
  void replacesWhatCannotBeCarried(Format format) {
    String broken = "nul\u0000 bell\u0007 lone\uD800 low\uDC00 ffff\uFFFF end";
    byte[] bytes = OperationOutcomes.render(Refusal.of(400, IssueType.INVALID, broken), format);
    OperationOutcome oo = parse(bytes, format);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).isEqualTo("nul\uFFFD bell\uFFFD lone\uFFFD low\uFFFD ffff\uFFFD end");
  }

  @ParameterizedTest
  @EnumSource(Format.class)
  void emptyDiagnosticsAreLeftOut(Format format) {
    byte[] bytes = OperationOutcomes.render(Refusal.of(500, IssueType.EXCEPTION, ""), format);
    assertThat(new String(bytes, StandardCharsets.UTF_8)).doesNotContain("diagnostics");
    assertThat(parse(bytes, format).getIssueFirstRep().hasDiagnostics()).isFalse();
  }

  @Test
  void exactJsonShape() {
    byte[] bytes = OperationOutcomes.render(Refusal.of(429, IssueType.THROTTLED, "slow down"), Format.JSON);
    assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"throttled\",\"diagnostics\":\"slow down\"}]}");
  }

  @Test
  void exactXmlShape() {
    byte[] bytes = OperationOutcomes.render(Refusal.of(400, IssueType.INVALID, "a<b & \"c\""), Format.XML);
    assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("<OperationOutcome xmlns=\"http://hl7.org/fhir\"><issue>"
        + "<severity value=\"error\"/><code value=\"invalid\"/><diagnostics value=\"a&lt;b &amp; &quot;c&quot;\"/>"
        + "</issue></OperationOutcome>");
  }

  @Test
  void everyParserRefusalRendersValidly() {
    Refusal r = ((ParseResult.Rejected) Requests.PARSER.parse(Requests.get("/fhir/patient/1"))).refusal();
    assertThat(parse(OperationOutcomes.render(r, Format.XML), Format.XML).getIssueFirstRep().getDiagnostics())
        .isEqualTo(r.diagnostics());
  }

  @ParameterizedTest
  @EnumSource(Format.class)
  void aSuccessIsAnInformationalOutcomeHapiReads(Format format) {
    OperationOutcome oo = parse(OperationOutcomes.information("The write succeeded (HTTP 201) & <done>", format), format);
    assertThat(oo.getIssue()).hasSize(1);
    assertThat(oo.getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.INFORMATION);
    assertThat(oo.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.INFORMATIONAL);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).isEqualTo("The write succeeded (HTTP 201) & <done>");
  }
}
