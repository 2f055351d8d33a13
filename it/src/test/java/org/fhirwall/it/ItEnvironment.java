package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.fhirwall.demo.DemoEnvironment;
import org.fhirwall.demo.DemoIssuer;

/**
 * The real parts an integration test talks to: a HAPI FHIR server (the EPR) with synthetic
 * patients, the demo token issuer, and fhirwall between them, started with the test policies in
 * {@code src/test/resources/it-policies}. One per test class; close it in {@code @AfterAll}.
 */
final class ItEnvironment implements AutoCloseable {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  final DemoEnvironment env;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ItEnvironment(DemoEnvironment env) {
    this.env = env;
  }

  static ItEnvironment start(int patients) throws Exception {
    return new ItEnvironment(DemoEnvironment.start(new DemoEnvironment.Settings(patients, 7, policies())));
  }

  static Path policies() throws URISyntaxException {
    return Path.of(ItEnvironment.class.getResource("/it-policies/writer.yaml").toURI()).getParent();
  }

  String proxyBase() {
    return env.proxyBase();
  }

  /** An MFA-backed user token with these token roles, for a fresh session. */
  String token(String user, String... roles) {
    return token(user, List.of("pwd", "otp"), roles);
  }

  String token(String user, List<String> amr, String... roles) {
    return env.issuer().mint(new DemoIssuer.Claims("sub-" + user, user, Set.of(roles), "1", amr,
        Instant.now().minusSeconds(600), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(20)));
  }

  IGenericClient client(String token) {
    FHIR.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
    FHIR.getRestfulClientFactory().setSocketTimeout(30_000);
    IGenericClient client = FHIR.newRestfulGenericClient(proxyBase());
    client.registerInterceptor(new BearerTokenAuthInterceptor(token));
    return client;
  }

  /** A raw GET through fhirwall (path relative to its base, or an absolute URL). */
  HttpResponse<String> get(String pathOrUrl, String token) throws Exception {
    return send(HttpRequest.newBuilder(uri(pathOrUrl)).GET(), token);
  }

  HttpResponse<String> send(HttpRequest.Builder request, String token) throws Exception {
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String pathOrUrl) {
    return URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : proxyBase() + "/" + pathOrUrl);
  }

  static void assertOperationOutcome(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"");
  }

  @Override
  public void close() {
    env.close();
  }
}
