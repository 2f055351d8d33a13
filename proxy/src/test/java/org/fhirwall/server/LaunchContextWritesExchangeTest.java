package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.NOW;
import static org.fhirwall.server.ExchangeRig.body;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.Principal;
import org.junit.jupiter.api.Test;

/**
 * Gap sweep 2: an app launched for patient p7 created, updated and patched records of patient p8 (a plain reference,
 * a conditional reference to Patient, a transaction's entry): the EPR wrote them, and only its answer, naming p8, was
 * withheld afterwards. Through the real pipeline on an {@link EmbeddedChannel}: such a write is refused (403, an
 * OperationOutcome, rule {@code smart-patient-context:write}) before the EPR is asked.
 */
class LaunchContextWritesExchangeTest extends ExchangeFixture {
  static final String OBS = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
      + "\"subject\":{\"reference\":\"SUBJECT\"}}";

  {
    epr = r -> CountOraclesExchangeTest.located(201, ExchangeRig.EPR + "/Observation/o8/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o8\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p7\"}}");
  }

  @Test
  void theContextPatientsOwnRecordIsWritten() {
    FullHttpResponse r = send(write("POST", "Observation", OBS.replace("SUBJECT", "Patient/p7")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(reachedEpr).hasSize(1);
  }

  @Test
  void anotherPatientsRecordIsRefusedBeforeTheEprWrites() {
    refused(write("POST", "Observation", OBS.replace("SUBJECT", "Patient/p8")));
    refused(write("POST", "Observation", OBS.replace("SUBJECT", "Patient?identifier=mrn%7C8")));
    refused(write("PUT", "Observation/o1", OBS.replace("SUBJECT", "Patient/p8").replace("{\"resourceType\":\"Observation\"",
        "{\"resourceType\":\"Observation\",\"id\":\"o1\"")));
    // a patch names the patient of the record it changes (rule patch-unpinned); its values may not name another
    refused(write("PATCH", "Observation?_id=o1&subject=Patient/p7",
        "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient/p8\"}]"));
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + OBS.replace("SUBJECT", "Patient/p8") + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}"));
    refused(write("POST", "Observation", OBS.replace(",\"subject\":{\"reference\":\"SUBJECT\"}", "")));
    assertThat(reachedEpr).as("nothing was written").isEmpty();
  }

  private void refused(String wire) {
    assertThat(refused(wire, "smart-patient-context:write").body()).contains("launch context");
  }

  /** An app launched for patient p7 with every patient scope, signed in with password and one-time code. */
  static Authenticator launchedForP7() {
    return (header, now) -> CompletableFuture.completedFuture(new AuthOutcome.Authenticated(
        new Principal(Principal.Kind.USER, "https://idp", "alice", "alice", "app", Set.of("ward"), null,
            Set.of("pwd", "otp"), NOW, "sid-1", Set.of("launch/patient", "patient/*.cruds"), "p7", NOW.plusSeconds(600),
            "jti-1")));
  }

  private static String write(String method, String path, String body) {
    return Wire.write(method, path, body.startsWith("[") ? Wire.JSON_PATCH : Wire.JSON, body);
  }

  @Override
  String role() {
    return WARD_WRITER;
  }

  @Override
  Authenticator principal() {
    return launchedForP7();
  }
}
