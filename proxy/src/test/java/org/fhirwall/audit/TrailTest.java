package org.fhirwall.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.Test;

/** What a trail writes of the request's target. */
class TrailTest {

  @Test
  void aTokenSentInTheUrlNeverReachesTheAuditRecord() {
    // Adversarial sweep: GET /fhir/Patient/p1?access_token=<a valid JWT> was answered 401, and the whole token was
    // written to the audit trail (and the access log) as the request's target.
    String token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    for (String target : List.of("/fhir/Patient/p1?access_token=" + token, "/fhir/Patient?name=x&access_token=" + token + "&_count=1",
        "/fhir/Patient?ACCESS_TOKEN=" + token, "/fhir/Patient?access%5Ftoken=" + token,
        "/fhir/Patient?access_tok%65n=" + token, "/fhir/Patient?%61ccess_token=" + token)) {
      Trail t = Trail.arrived("r1", Instant.EPOCH, 0, "127.0.0.1", "GET", target, null);
      AuditRecord r = t.refused(Refusal.of(401, IssueType.LOGIN, "Authentication required"), AuditRecord.Outcome.REFUSED,
          "authentication", List.of(), 0);
      assertThat(r.target()).as(target).doesNotContain(token).contains("=REDACTED");
    }
    assertThat(Trail.withoutAccessToken("/fhir/Patient?name=x&_count=1")).isEqualTo("/fhir/Patient?name=x&_count=1");
    assertThat(Trail.withoutAccessToken("/fhir/Patient?name=x&access_token=a&b=c")).isEqualTo("/fhir/Patient?name=x&access_token=REDACTED&b=c");
  }
}
