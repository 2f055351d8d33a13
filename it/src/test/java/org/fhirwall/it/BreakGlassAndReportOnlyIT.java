package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.fhirwall.demo.DemoIssuer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Break-glass and report-only through the real proxy: a reason header opens a separate, larger
 * allowance only with a fresh login and is marked in the audit trail; a report-only role is never
 * refused for its limits, and the audit trail says what would have been.
 */
@ExtendWith(LeakWatch.class)
class BreakGlassAndReportOnlyIT {
  static ItEnvironment it;
  static List<String> ids;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(300);
    ids = it.env.store().samplePatientIds(40, 13);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String token(String role, Duration loggedInAgo) {
    return it.env.issuer().mint(DemoIssuer.Claims.builder("sub-" + UUID.randomUUID(), "fhirwall", "fhirwall-web")
        .username(role + "-user").roles(Set.of(role)).amr(List.of("pwd", "otp")).authTime(Instant.now().minus(loggedInAgo)).build());
  }

  static HttpResponse<String> get(String path, String token, String reason) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(it.uri(path)).GET();
    if (reason != null) {
      b.header("X-Break-Glass-Reason", reason);
    }
    return it.send(b, token);
  }

  static String audit(String mustContain) throws Exception {
    for (int i = 0; i < 100; i++) {
      String text = Files.exists(it.env.auditFile()) ? Files.readString(it.env.auditFile()) : "";
      if (text.contains(mustContain)) {
        return text;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("audit file never contained " + mustContain);
  }

  @Test
  void breakGlassOpensItsOwnAllowanceOnlyWithAFreshLoginAndIsAudited() throws Exception {
    String token = token("er", Duration.ofMinutes(5));
    String five = String.join(",", ids.subList(0, 5));
    assertThat(get("Patient?_id=" + five, token, null).statusCode()).isEqualTo(200);
    String next = String.join(",", ids.subList(5, 10));
    assertThat(get("Patient?_id=" + next, token, null).statusCode()).as("the ordinary limit of 5 is used up").isEqualTo(429);
    assertThat(get("Patient?_id=" + next, token, "cardiac arrest, patient unconscious").statusCode()).isEqualTo(200);
    String log = audit("cardiac arrest, patient unconscious");
    assertThat(log).contains("\"code\":\"BTG\"");

    String stale = token("er", Duration.ofHours(2));
    HttpResponse<String> r = get("Patient/" + ids.get(20), stale, "trauma");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("insufficient_user_authentication").contains("max_age=900");
  }

  @Test
  void reportOnlyRefusesNothingAndRecordsWhatItWouldHaveRefused() throws Exception {
    String token = token("observer", Duration.ofMinutes(5));
    assertThat(get("Patient?_id=" + String.join(",", ids.subList(0, 5)), token, null).statusCode()).isEqualTo(200);
    HttpResponse<String> r = get("Patient?_id=" + String.join(",", ids.subList(5, 10)), token, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(audit("report-only: over the 1h limit")).contains("observer-user");
  }
}
