package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.ParseResult;
import org.fhirwall.fhir.ParserSettings;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.fhir.RequestParser;

/** Test helpers: requests classified by the real parser, principals, decisions. */
final class Fhir {
  static final RequestParser PARSER = new RequestParser(FhirContext.forR4Cached(), ParserSettings.defaults("/fhir"));

  private Fhir() {}

  /** A classified request; {@code headers} as "Name: value". */
  static FhirRequest req(String method, String target, String body, String... headers) {
    List<RawRequest.Header> list = new ArrayList<>();
    for (String h : headers) {
      int colon = h.indexOf(':');
      list.add(new RawRequest.Header(h.substring(0, colon), h.substring(colon + 1).trim()));
    }
    if (!body.isEmpty() && list.stream().noneMatch(h -> h.name().equalsIgnoreCase("Content-Type"))) {
      list.add(new RawRequest.Header("Content-Type", "application/fhir+json"));
    }
    ParseResult r = PARSER.parse(new RawRequest(method, "/fhir/" + target, list, body.getBytes(StandardCharsets.UTF_8)));
    assertThat(r).as("parse of %s %s", method, target).isInstanceOf(ParseResult.Parsed.class);
    return ((ParseResult.Parsed) r).request();
  }

  static FhirRequest get(String target, String... headers) {
    return req("GET", target, "", headers);
  }

  /** A batch or transaction of {@code method url} lines (POST/PUT entries get a minimal resource of the url's type). */
  static FhirRequest bundle(String type, String... entries) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
    for (int i = 0; i < entries.length; i++) {
      String[] mu = entries[i].split(" ", 2);
      sb.append(i == 0 ? "" : ",").append('{');
      if (mu[0].equals("POST") || mu[0].equals("PUT")) {
        String rtype = mu[1].split("[/?]")[0];
        String id = mu[0].equals("PUT") ? ",\"id\":\"" + mu[1].split("/")[1] + "\"" : "";
        String extra = rtype.equals("Subscription")
            ? ",\"status\":\"requested\",\"reason\":\"r\",\"criteria\":\"Observation?code=x\",\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"https://x.example/h\"}"
            : "";
        sb.append("\"resource\":{\"resourceType\":\"").append(rtype).append('"').append(id).append(extra).append("},");
      }
      sb.append("\"request\":{\"method\":\"").append(mu[0]).append("\",\"url\":\"").append(mu[1]).append("\"}}");
    }
    sb.append("]}");
    return req("POST", "", sb.toString());
  }

  /** A clinician with password and OTP, whose token is bound to the DPoP key of their device. */
  static Principal user(String... roles) {
    Principal p = PolicyEngineTest.user(Set.of(roles), Set.of("pwd", "otp"), PolicyEngineTest.NOW.minusSeconds(60));
    return new Principal(p.kind(), p.issuer(), p.subject(), p.username(), p.clientId(), p.roles(), p.acr(), p.amr(),
        p.authTime(), p.sessionId(), p.scopes(), p.patientContext(), p.expiresAt(), p.tokenId(),
        new Principal.Confirmation("device-key-thumbprint", null));
  }

  /** The same clinician with a plain bearer token. */
  static Principal bearerUser(String... roles) {
    return PolicyEngineTest.user(Set.of(roles), Set.of("pwd", "otp"), PolicyEngineTest.NOW.minusSeconds(60));
  }

  static Principal service(String... roles) {
    return new Principal(Principal.Kind.SERVICE, "https://idp/realms/h", "svc-1", null, "warehouse", Set.of(roles),
        null, Set.of(), null, null, Set.of(), null, PolicyEngineTest.NOW.plusSeconds(60), "jti-s");
  }

  static Decision decide(PolicyEngine engine, Principal p, FhirRequest r) {
    return engine.decide(p, r, null, 1, PolicyEngineTest.NOW);
  }

  static PolicyEngine engine(String... yamls) {
    List<RolePolicy> roles = new ArrayList<>();
    for (String y : yamls) {
      roles.add(PolicyEngineTest.role(y));
    }
    return new PolicyEngine(new PolicySet(roles));
  }

  static Decision.Deny denied(Decision d) {
    assertThat(d).isInstanceOf(Decision.Deny.class);
    return (Decision.Deny) d;
  }

  static Decision.Allow allowed(Decision d) {
    assertThat(d).as("%s", d).isInstanceOf(Decision.Allow.class);
    return (Decision.Allow) d;
  }
}
