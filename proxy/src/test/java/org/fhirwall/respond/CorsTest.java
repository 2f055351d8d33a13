package org.fhirwall.respond;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CORS for browser apps: nothing by default; only listed origins, FHIR methods and the headers FHIR clients need. */
class CorsTest {
  final Cors cors = new Cors(List.of("https://app.example"), Duration.ofMinutes(10));

  @Test
  void byDefaultNoOriginIsAllowedAndEveryPreflightIsRefused() {
    assertThat(Cors.NONE.headersFor("https://app.example")).isEmpty();
    assertThat(Cors.NONE.preflight("https://app.example", "GET", null)).isInstanceOf(Cors.Preflight.Refused.class);
  }

  @Test
  void aListedOriginGetsItsOwnOriginBackAndNoCredentials() {
    List<Map.Entry<String, String>> h = cors.headersFor("https://app.example");
    assertThat(h).contains(Map.entry("Access-Control-Allow-Origin", "https://app.example"), Map.entry("Vary", "Origin"));
    assertThat(h).extracting(Map.Entry::getKey).doesNotContain("Access-Control-Allow-Credentials");
    assertThat(h.stream().filter(e -> e.getKey().equals("Access-Control-Expose-Headers")).findFirst().orElseThrow().getValue())
        .contains("WWW-Authenticate").contains("DPoP-Nonce");
    assertThat(cors.headersFor("https://evil.example")).isEmpty();
    assertThat(cors.headersFor("null")).isEmpty();
    assertThat(cors.headersFor(null)).isEmpty();
  }

  @Test
  void aPreflightIsAllowedOnlyForFhirMethodsAndTheHeadersFhirClientsNeed() {
    assertThat(cors.preflight("https://app.example", "GET", "Authorization, DPoP, Content-Type, Prefer, If-Match"))
        .isInstanceOfSatisfying(Cors.Preflight.Allowed.class, a -> assertThat(a.headers())
            .contains(Map.entry("Access-Control-Allow-Headers", "authorization, dpop, content-type, prefer, if-match"),
                Map.entry("Access-Control-Max-Age", "600")));
    assertThat(cors.preflight("https://app.example", "TRACE", null)).isInstanceOf(Cors.Preflight.Refused.class);
    assertThat(cors.preflight("https://app.example", "GET", "X-HTTP-Method-Override")).isInstanceOf(Cors.Preflight.Refused.class);
    assertThat(cors.preflight("https://app.example", "GET", "Cookie")).isInstanceOf(Cors.Preflight.Refused.class);
    assertThat(cors.preflight("https://evil.example", "GET", null)).isInstanceOf(Cors.Preflight.Refused.class);
  }
}
