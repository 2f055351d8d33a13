package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.RequestPatients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SMART v2 (and v1) scopes narrow what the role allows; a patient launch context confines requests and answers. */
class SmartScopesTest {

  static Principal app(String scopes, String patient) {
    Principal p = Fhir.user("physician");
    return new Principal(p.kind(), p.issuer(), p.subject(), p.username(), p.clientId(), p.roles(), p.acr(), p.amr(),
        p.authTime(), p.sessionId(), Set.of(scopes.split(" ")), patient, p.expiresAt(), p.tokenId(), p.confirmation());
  }

  static boolean allows(String scopes, String patient, String target) {
    return SmartScopes.check(app(scopes, patient), Fhir.get(target), RequestPatients.R4).isEmpty();
  }

  @Test
  void theTypesAnAppMaySeeInAnAnswerAreThoseItsReadOrSearchScopesName() {
    assertThat(SmartScopes.readableTypes(app("openid profile", null))).isNull();
    assertThat(SmartScopes.readableTypes(app("openid user/Observation.rs?category=laboratory user/Patient.c", null)))
        .containsExactly("Observation");
    assertThat(SmartScopes.readableTypes(app("patient/*.rs user/Encounter.read", null))).as("no launch context")
        .containsExactly("Encounter");
    assertThat(SmartScopes.readableTypes(app("patient/*.rs", "7"))).containsExactly("*");
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // scopes, launch patient, request, allowed
        Arguments.of("openid profile", null, "Observation?subject=Patient/9", true),
        Arguments.of("patient/*.rs launch/patient", "7", "Patient/7", true),
        Arguments.of("patient/*.rs", "7", "Observation?subject=Patient/7", true),
        Arguments.of("patient/*.rs", "7", "Patient/8", false),
        Arguments.of("patient/*.rs", "7", "Observation?subject=Patient/8", false),
        Arguments.of("patient/*.rs", null, "Patient/7", false),
        Arguments.of("patient/*.r", "7", "Observation?subject=Patient/7", false),
        Arguments.of("user/Observation.rs", null, "Observation?subject=Patient/9", true),
        Arguments.of("user/Observation.rs", null, "Observation/1", true),
        Arguments.of("user/Observation.rs", null, "Condition?subject=Patient/9", false),
        Arguments.of("user/Observation.rs", null, "Patient/9", false),
        Arguments.of("user/Observation.s", null, "Observation/1", false),
        Arguments.of("system/*.rs", null, "Encounter?patient=Patient/3", true),
        Arguments.of("user/Observation.rs?category=laboratory", null, "Observation?subject=Patient/9&category=laboratory", true),
        Arguments.of("user/Observation.rs?category=laboratory", null, "Observation?subject=Patient/9&category=vital-signs", false),
        Arguments.of("user/Observation.rs?category=laboratory", null, "Observation?subject=Patient/9", false),
        Arguments.of("user/Observation.rs?category=laboratory", null, "Observation/1", false),
        Arguments.of("user/Observation.read", null, "Observation?subject=Patient/9", true),
        Arguments.of("user/Observation.read", null, "Observation/1", true),
        Arguments.of("user/Observation.write", null, "Observation/1", false),
        Arguments.of("patient/*.read", "7", "Patient/7", true),
        Arguments.of("user/*.*", null, "Patient/7", true),
        Arguments.of("user/*.sr", null, "Patient/7", false),
        Arguments.of("user/*.rs", null, "metadata", true),
        Arguments.of("user/*.bogus", null, "Patient/7", false));
  }

  @ParameterizedTest(name = "{0} (patient {1}): {2} -> {3}")
  @MethodSource("cases")
  void scopesNarrowWhatTheRoleAllows(String scopes, String patient, String target, boolean allowed) {
    assertThat(allows(scopes, patient, target)).isEqualTo(allowed);
  }

  /**
   * Gap sweep: a conditional reference in a written resource is a search the EPR runs ({@code Patient?identifier=...}
   * answers, by the write's outcome, whether the MRN exists and which record it is). An app whose scopes let it create
   * Observations but not search Patients wrote one through: the role's {@code resource-types} were checked for it, the
   * token's scopes not. Now it needs a scope granting {@code s} on the type it searches, constraints included.
   */
  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @MethodSource("conditionalReferences")
  void aConditionalReferenceIsASearchOfItsTypeForTheScopes(String scopes, String reference, boolean allowed) {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"" + reference + "\"}}";
    var v = SmartScopes.check(app(scopes, null), Fhir.req("POST", "Observation", obs), RequestPatients.R4);
    assertThat(v.isEmpty()).as(v.map(Violation::toString).orElse("allowed")).isEqualTo(allowed);
    v.ifPresent(x -> assertThat(x.rule()).isEqualTo("smart-scope"));
    v.ifPresent(x -> assertThat(x.always()).isTrue());
    // the same in a transaction's entry
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + obs
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
    assertThat(SmartScopes.check(app(scopes, null), Fhir.req("POST", "", tx), RequestPatients.R4).isEmpty()).isEqualTo(allowed);
  }

  static Stream<Arguments> conditionalReferences() {
    return Stream.of(
        Arguments.of("user/Observation.c", "Patient/9", true),
        Arguments.of("user/Observation.c", "Patient?identifier=mrn|123", false),
        Arguments.of("user/Observation.c user/Patient.r", "Patient?identifier=mrn|123", false),
        Arguments.of("user/Observation.c user/Patient.s", "Patient?identifier=mrn|123", true),
        Arguments.of("user/Observation.c user/Patient.rs", "Patient?identifier=mrn|123", true),
        Arguments.of("user/Observation.c user/*.s", "Patient?identifier=mrn|123", true),
        Arguments.of("user/Observation.c user/Encounter.rs", "Patient?identifier=mrn|123", false),
        Arguments.of("user/Observation.c user/Patient.s?active=true", "Patient?identifier=mrn|123", false),
        Arguments.of("user/Observation.c user/Patient.s?active=true", "Patient?identifier=mrn|123&active=true", true),
        Arguments.of("user/Observation.c patient/Patient.s", "Patient?identifier=mrn|123", false));
  }

  @Test
  void theNextPageOfASearchAFilteredScopeAllowedIsAllowedToo() {
    // Adversarial sweep: user/Observation.rs?category=laboratory ran its search, and the next page was refused 403
    // (the page request carries no search parameters). A link opens only for the scopes it was issued under.
    FhirRequest page = new FhirRequest(Interaction.PAGE, "GET", "Observation", null, null, null, null, false, List.of(),
        List.of(), Format.JSON, false, false, "tok", List.of(), List.of(), FhirRequest.Body.EMPTY);
    Principal lab = app("user/Observation.rs?category=laboratory", null);
    assertThat(SmartScopes.check(lab, page, RequestPatients.R4)).isEmpty();
    FhirRequest patients = new FhirRequest(Interaction.PAGE, "GET", "Patient", null, null, null, null, false, List.of(),
        List.of(), Format.JSON, false, false, "tok", List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertThat(SmartScopes.check(lab, patients, RequestPatients.R4)).as("another type's pages still need a scope").isPresent();
  }

  @Test
  void aScopeRefusalIsEnforcedEvenForAReportOnlyRoleAndTheRoleStillComesFirst() {
    var v = SmartScopes.check(app("user/Observation.rs", null), Fhir.get("Patient/9"), RequestPatients.R4).orElseThrow();
    assertThat(v.always()).isTrue();
    assertThat(v.rule()).isEqualTo("smart-scope");
  }

  @Test
  void anAnswerNamingAnotherPatientThanTheLaunchContextIsWithheld() {
    Principal p = app("patient/*.rs", "7");
    assertThat(PolicyEngine.outsideLaunchContext(p, Set.of("Patient/7"))).isEmpty();
    assertThat(PolicyEngine.outsideLaunchContext(p, Set.of("Patient/7", "Patient/8"))).isPresent();
    assertThat(PolicyEngine.outsideLaunchContext(p, Set.of("unresolved:abc"))).as("fail closed").isPresent();
    assertThat(PolicyEngine.outsideLaunchContext(app("user/*.rs", null), Set.of("Patient/8"))).isEmpty();
  }

  /**
   * Gap sweep 2: an app launched for patient 7 wrote resources of patient 8 (a plain reference, a conditional reference
   * to Patient, a transaction's entry): the launch context was held to the patients the request's URL and criteria
   * named, and to the answer, which is refused only after the EPR has written. Now a write's body must name the context
   * patient as its compartment owner, and no other patient, before it is forwarded; owners it cannot tell refuse.
   */
  @ParameterizedTest(name = "{0} {1}: {2} -> {3}")
  @MethodSource("writesUnderALaunchContext")
  void aWriteUnderAPatientLaunchContextMustBeThatPatientsOwn(String method, String target, String body, boolean allowed) {
    FhirRequest r = body.startsWith("[")
        ? Fhir.req(method, target, body, "Content-Type: application/json-patch+json") : Fhir.req(method, target, body);
    var v = SmartScopes.check(app("patient/*.cruds", "7"), r, RequestPatients.R4);
    assertThat(v.isEmpty()).as(v.map(Violation::toString).orElse("allowed")).isEqualTo(allowed);
    v.ifPresent(x -> assertThat(x.rule()).startsWith("smart-patient-context"));
    v.ifPresent(x -> assertThat(x.always()).isTrue());
    if (!body.startsWith("[") && !target.isEmpty()) {
      // the same in a transaction's entry
      String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + body
          + ",\"request\":{\"method\":\"" + method + "\",\"url\":\"" + target + "\"}}]}";
      var e = SmartScopes.check(app("patient/*.cruds", "7"), Fhir.req("POST", "", tx), RequestPatients.R4);
      // an update by id of a patient's record is judged on fhirwall's read of it, which an entry does not get
      boolean byId = method.equals("PUT") && target.startsWith("Observation/");
      assertThat(e.isEmpty()).as("in a transaction: " + e.map(Violation::toString).orElse("allowed"))
          .isEqualTo(allowed && !byId);
    }
  }

  /**
   * What an update or delete by id replaces is read by fhirwall before a request sent alone is forwarded
   * ({@link LaunchContextRecords}); a batch or transaction entry gets no such read, so it is refused under a launch
   * context, saying why. A Patient is judged by its id; a type outside the Patient compartment holds no patient's record.
   */
  @ParameterizedTest(name = "{0} {1} -> {2}")
  @MethodSource("entriesById")
  void anEntryUpdatingOrDeletingAPatientsRecordByIdIsRefusedUnderALaunchContext(String method, String url, boolean allowed) {
    String resource = method.equals("DELETE") ? "" : "\"resource\":" + (url.startsWith("Patient/")
        ? "{\"resourceType\":\"Patient\",\"id\":\"7\"}"
        : url.startsWith("Medication/") ? "{\"resourceType\":\"Medication\",\"id\":\"1\"}"
        : obsOf("Patient/7").replace("{\"resourceType\":\"Observation\"", "{\"resourceType\":\"Observation\",\"id\":\"1\"")) + ",";
    String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{" + resource + "\"request\":{\"method\":\""
        + method + "\",\"url\":\"" + url + "\"}}]}";
    var v = SmartScopes.check(app("patient/*.cruds", "7"), Fhir.req("POST", "", batch), RequestPatients.R4);
    assertThat(v.isEmpty()).as(v.map(Violation::toString).orElse("allowed")).isEqualTo(allowed);
    v.ifPresent(x -> assertThat(x.rule()).startsWith("smart-patient-context"));
    if (!allowed && url.startsWith("Observation/")) {
      assertThat(v.orElseThrow().deny().reason()).contains("not in a batch or transaction");
    }
    assertThat(SmartScopes.check(app("user/*.cruds", null), Fhir.req("POST", "", batch), RequestPatients.R4))
        .as("without a launch context").isEmpty();
  }

  static Stream<Arguments> entriesById() {
    return Stream.of(
        Arguments.of("DELETE", "Observation/1", false),
        Arguments.of("PUT", "Observation/1", false),
        Arguments.of("DELETE", "Patient/7", true),
        Arguments.of("DELETE", "Patient/8", false),
        Arguments.of("PUT", "Patient/7", true),
        Arguments.of("PUT", "Medication/1", true),
        Arguments.of("DELETE", "Observation?patient=Patient/7&code=x", true));
  }

  static String obsOf(String subject) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}"
        + (subject == null ? "" : ",\"subject\":{\"reference\":\"" + subject + "\"}") + "}";
  }

  static Stream<Arguments> writesUnderALaunchContext() {
    return Stream.of(
        Arguments.of("POST", "Observation", obsOf("Patient/7"), true),
        Arguments.of("POST", "Observation", obsOf("Patient/8"), false),
        Arguments.of("POST", "Observation", obsOf("https://epr.example/fhir/Patient/8"), false),
        Arguments.of("POST", "Observation", obsOf("Patient/8/_history/2"), false),
        Arguments.of("POST", "Observation", obsOf("Patient?identifier=mrn|123"), false),
        Arguments.of("POST", "Observation", obsOf("Patient?_id=8"), false),
        Arguments.of("POST", "Observation", obsOf("Patient?_id=7"), true),
        Arguments.of("POST", "Observation", obsOf("Patient?_id=7&identifier=mrn|1"), true),
        Arguments.of("POST", "Observation", obsOf("Patient?_id=7,8"), false),
        Arguments.of("POST", "Observation", obsOf(null), false),
        Arguments.of("POST", "Observation", obsOf("urn:uuid:0f7c4b2e-8d1a-4c3e-9b6f-2a5d8e1c7f30"), false),
        Arguments.of("POST", "Observation", obsOf("Group/3"), false),
        Arguments.of("POST", "Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
            + "{\"text\":\"x\"},\"subject\":{\"identifier\":{\"system\":\"mrn\",\"value\":\"8\"}}}", false),
        Arguments.of("POST", "Observation", obsOf("Patient/7").replace("}}", "},\"performer\":[{\"reference\":\"Patient/8\"}]}"),
            false),
        Arguments.of("POST", "Observation", obsOf("Patient/7").replace("}}", "},\"contained\":[{\"resourceType\":"
            + "\"Patient\",\"id\":\"c1\"}]}"), false),
        Arguments.of("PUT", "Observation/1", obsOf("Patient/7").replace("{\"resourceType\":\"Observation\"",
            "{\"resourceType\":\"Observation\",\"id\":\"1\""), true),
        Arguments.of("PUT", "Observation/1", obsOf("Patient/8").replace("{\"resourceType\":\"Observation\"",
            "{\"resourceType\":\"Observation\",\"id\":\"1\""), false),
        Arguments.of("PUT", "Patient/7", "{\"resourceType\":\"Patient\",\"id\":\"7\"}", true),
        Arguments.of("POST", "Patient", "{\"resourceType\":\"Patient\"}", false),
        Arguments.of("PATCH", "Observation/1", "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":"
            + "\"Patient/8\"}]", false),
        Arguments.of("PATCH", "Observation/1", "[{\"op\":\"replace\",\"path\":\"/subject\",\"value\":"
            + "{\"reference\":\"Patient?identifier=mrn|1\"}}]", false),
        Arguments.of("PATCH", "Observation/1", "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"final\"}]",
            true));
  }

  /**
   * Gap sweep 2: a conditional create ({@code If-None-Exist}), update, patch or delete makes the EPR search its type by
   * its criteria, and its outcome (created or not, 412 for several matches, 404) tells what matched; it needed only
   * {@code c}, {@code u} or {@code d}. Now it needs a scope granting {@code s} on its type too, constraints among the
   * criteria, like a search.
   */
  @ParameterizedTest(name = "{0}: {1} {2} -> {3}")
  @MethodSource("conditionalWrites")
  void aConditionalWritesCriteriaAreASearchForTheScopes(String scopes, String method, String target, boolean allowed) {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/9\"}}";
    FhirRequest r = switch (method) {
      case "CREATE" -> Fhir.req("POST", "Observation", obs, "If-None-Exist: " + target);
      case "PUT" -> Fhir.req("PUT", target, obs);
      case "PATCH" -> Fhir.req("PATCH", target, "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"final\"}]",
          "Content-Type: application/json-patch+json");
      default -> Fhir.req("DELETE", target, "");
    };
    var v = SmartScopes.check(app(scopes, null), r, RequestPatients.R4);
    assertThat(v.isEmpty()).as(v.map(Violation::toString).orElse("allowed")).isEqualTo(allowed);
    v.ifPresent(x -> assertThat(x.rule()).isEqualTo("smart-scope"));
    // the same in a transaction's entry
    String entry = switch (method) {
      case "CREATE" -> "{\"resource\":" + obs + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\","
          + "\"ifNoneExist\":\"" + target + "\"}}";
      case "PUT" -> "{\"resource\":" + obs + ",\"request\":{\"method\":\"PUT\",\"url\":\"" + target + "\"}}";
      case "PATCH" -> null;
      default -> "{\"request\":{\"method\":\"DELETE\",\"url\":\"" + target + "\"}}";
    };
    if (entry != null) {
      FhirRequest tx = Fhir.req("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          + entry + "]}");
      assertThat(SmartScopes.check(app(scopes, null), tx, RequestPatients.R4).isEmpty()).as("in a transaction")
          .isEqualTo(allowed);
    }
  }

  static Stream<Arguments> conditionalWrites() {
    return Stream.of(
        Arguments.of("user/Observation.c", "CREATE", "identifier=lab|7", false),
        Arguments.of("user/Observation.cs", "CREATE", "identifier=lab|7", true),
        Arguments.of("user/Observation.c user/Observation.s?category=lab", "CREATE", "identifier=lab|7", false),
        Arguments.of("user/Observation.c user/Observation.s?category=lab", "CREATE", "identifier=lab|7&category=lab", true),
        Arguments.of("user/Observation.u", "PUT", "Observation?identifier=lab|7", false),
        Arguments.of("user/Observation.us", "PUT", "Observation?identifier=lab|7", true),
        Arguments.of("user/Observation.u", "PUT", "Observation/1", true),
        Arguments.of("user/Observation.u", "PATCH", "Observation?identifier=lab|7", false),
        Arguments.of("user/Observation.u user/*.s", "PATCH", "Observation?identifier=lab|7", true),
        Arguments.of("user/Observation.d", "DELETE", "Observation?identifier=lab|7", false),
        Arguments.of("user/Observation.ds", "DELETE", "Observation?identifier=lab|7", true),
        Arguments.of("user/Observation.d", "DELETE", "Observation/1", true),
        Arguments.of("user/Observation.write", "PUT", "Observation?identifier=lab|7", false),
        Arguments.of("user/Observation.write user/Observation.read", "PUT", "Observation?identifier=lab|7", true));
  }

  /**
   * Gap sweep 2: a chain searches the type it follows a reference to ({@code Observation?subject:Patient.name=smith}
   * searches Patient by name), and a reverse chain the type it names ({@code Patient?_has:Observation:subject:code=x}
   * searches Observation); an app needed {@code s} only on the type before {@code ?}. Now each type a chain or
   * {@code _has} link searches needs a scope granting {@code s} on it (unconstrained: the link's criteria are not the
   * scope's); a link whose type fhirwall cannot tell needs a {@code *} scope.
   */
  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @MethodSource("chains")
  void eachTypeAChainOrReverseChainSearchesNeedsASearchScope(String scopes, String target, boolean allowed) {
    var v = SmartScopes.check(app(scopes, null), Fhir.get(target), RequestPatients.R4);
    assertThat(v.isEmpty()).as(v.map(Violation::toString).orElse("allowed")).isEqualTo(allowed);
    v.ifPresent(x -> assertThat(x.rule()).isEqualTo("smart-scope"));
  }

  static Stream<Arguments> chains() {
    return Stream.of(
        Arguments.of("user/Observation.rs", "Observation?subject:Patient.name=smith", false),
        Arguments.of("user/Observation.rs user/Patient.rs", "Observation?subject:Patient.name=smith", true),
        Arguments.of("user/Observation.rs user/Patient.rs?active=true", "Observation?subject:Patient.name=smith", false),
        Arguments.of("user/Observation.rs user/Patient.r", "Observation?subject:Patient.name=smith", false),
        // subject of an Observation may be a Patient, Group, Device or Location: each is searched
        Arguments.of("user/Observation.rs user/Patient.rs", "Observation?subject.name=smith", false),
        Arguments.of("user/Observation.rs user/Patient.rs user/Group.rs user/Device.rs user/Location.rs",
            "Observation?subject.name=smith", true),
        Arguments.of("user/Observation.rs user/*.s", "Observation?subject.name=smith", true),
        Arguments.of("user/Observation.rs user/Patient.rs", "Observation?patient.organization.name=x", false),
        Arguments.of("user/Observation.rs user/Patient.rs user/Organization.s", "Observation?patient.organization.name=x",
            true),
        Arguments.of("user/Patient.rs", "Patient?_has:Observation:subject:code=1234-5", false),
        Arguments.of("user/Patient.rs user/Observation.s", "Patient?_has:Observation:subject:code=1234-5", true),
        Arguments.of("user/Patient.rs user/Observation.s", "Patient?_has:Observation:subject:_has:Provenance:target:agent=x",
            false),
        Arguments.of("user/Patient.rs user/Observation.s user/Provenance.s",
            "Patient?_has:Observation:subject:_has:Provenance:target:agent=x", true),
        Arguments.of("user/Patient.rs user/Observation.s", "Patient?_has:Observation:subject:performer:Practitioner.name=x",
            false),
        Arguments.of("user/Observation.rs", "Observation?subject=Patient/7&code=1234-5", true),
        Arguments.of("user/Observation.rs", "Patient/7/Observation?subject:Patient.name=smith", false));
  }
}
