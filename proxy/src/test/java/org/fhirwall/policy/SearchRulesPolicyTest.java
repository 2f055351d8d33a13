package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.junit.jupiter.api.Test;
import org.fhirwall.respond.Refusals;

/** The request-side search rules ({@code search.*}) as the engine applies them. */
class SearchRulesPolicyTest {

  static final String BASE = """
      role: clinic
      applies-to:
        roles: [clinic]
      authentication:
        amr: [otp]
      interactions: [read, search-type, search-system, search-compartment, batch]
      resource-types: [Patient, Observation, Condition, Encounter, MedicationRequest, Group, Practitioner, Provenance]
      patient-limits:
        - {window: 1h, max: 100}
      """;

  private static PolicyEngine engine(String search) {
    return Fhir.engine(BASE + search);
  }

  private static final PolicyEngine DEFAULTS = Fhir.engine(BASE);
  private static final Principal USER = Fhir.user("clinic");

  private static Decision decide(PolicyEngine e, String target) {
    return Fhir.decide(e, USER, Fhir.get(target));
  }

  private static Decision.Deny refused(PolicyEngine e, String target, String rule) {
    Decision.Deny d = Fhir.denied(decide(e, target));
    assertThat(d.rule()).as(target).isEqualTo(rule);
    assertThat(Refusals.of(d).status()).as(target).isEqualTo(403);
    return d;
  }

  private static Decision.Allow allowed(PolicyEngine e, String target) {
    return Fhir.allowed(decide(e, target));
  }

  // -- unselective searches -----------------------------------------------------------------------

  @Test
  void aBareSearchIsRefusedForAUserRoleByDefault() {
    for (String t : List.of("Patient", "Patient?_count=20", "Patient?_sort=birthdate&_elements=id", "Patient?_summary=count",
        "Patient?name:missing=false")) {
      Decision.Deny d = refused(DEFAULTS, t, "search-unselective");
      assertThat(Refusals.of(d).diagnostics()).contains("no selective criterion").contains("role clinic");
    }
    allowed(DEFAULTS, "Patient?name=smith");
    allowed(DEFAULTS, "Patient/1/Observation");
  }

  @Test
  void aBareSearchIsCappedWhenTheRoleSaysSo() {
    PolicyEngine e = engine("search:\n  unselective: cap\n  max-count: 20\n");
    Decision.Allow a = allowed(e, "Patient?_count=500");
    assertThat(a.request().param("_count")).contains("20");
    assertThat(a.notes()).containsExactly("unselective search allowed under the caps (search.unselective: cap)",
        "_count 500 lowered to 20");
    assertThat(Fhir.allowed(e.decide(USER, pageRequest(), null, 50, PolicyEngineTest.NOW))).isNotNull();
    assertThat(Fhir.denied(e.decide(USER, pageRequest(), null, 51, PolicyEngineTest.NOW)).rule()).isEqualTo("max-pages");
  }

  @Test
  void aServiceRoleCapsUnselectiveSearchesByDefault() {
    PolicyEngine e = Fhir.engine(BASE.replace("  roles: [clinic]\n", "  roles: [clinic]\n  principal: service\n")
        .replace("authentication:\n  amr: [otp]\n", ""));
    Decision.Allow a = Fhir.allowed(Fhir.decide(e, Fhir.service("clinic"), Fhir.get("Observation?_count=10")));
    assertThat(a.notes()).contains("unselective search allowed under the caps (search.unselective: cap)");
  }

  private static FhirRequest pageRequest() {
    return new FhirRequest(org.fhirwall.fhir.Interaction.PAGE, "GET", "Patient", null, null, null, null, false, List.of(),
        List.of(), org.fhirwall.fhir.Format.JSON, false, false, "tok", List.of(), List.of(), FhirRequest.Body.EMPTY);
  }

  // -- _include / _revinclude ---------------------------------------------------------------------

  @Test
  void noIncludeIsAllowedByDefault() {
    Decision.Deny d = refused(DEFAULTS, "Observation?subject=Patient/1&_include=Observation:subject", "search-include");
    assertThat(Refusals.of(d).diagnostics()).isEqualTo("_include=Observation:subject is not allowed for role clinic (allowed: none)");
    refused(DEFAULTS, "Patient?_id=1&_revinclude=Observation:subject", "search-include");
  }

  @Test
  void listedIncludeTargetsAreAllowedAndNothingElse() {
    PolicyEngine e = engine("search:\n  include: [Observation:subject, \"Observation:performer:Practitioner\", Provenance:target]\n");
    allowed(e, "Observation?subject=Patient/1&_include=Observation:subject");
    allowed(e, "Observation?subject=Patient/1&_include=Observation:subject:Patient");
    allowed(e, "Observation?subject=Patient/1&_include=Observation:performer:Practitioner");
    refused(e, "Observation?subject=Patient/1&_include=Observation:performer", "search-include");
    refused(e, "Observation?subject=Patient/1&_include=Observation:encounter", "search-include");
    allowed(e, "Patient?_id=1&_revinclude=Provenance:target");
    refused(e, "Patient?_id=1&_revinclude=Condition:subject", "search-include");
  }

  @Test
  void wildcardAndIterateNeedTheirOwnKeys() {
    PolicyEngine e = engine("search:\n  include: [Observation:subject, Patient:general-practitioner]\n");
    refused(e, "Observation?subject=Patient/1&_include=*", "search-include");
    refused(e, "Observation?subject=Patient/1&_include=Observation:*", "search-include");
    Decision.Deny iterate = refused(e, "Observation?subject=Patient/1&_include=Observation:subject"
        + "&_include:iterate=Patient:general-practitioner", "search-include");
    assertThat(Refusals.of(iterate).diagnostics()).isEqualTo("_include:iterate is not allowed for role clinic");

    PolicyEngine open = engine("search:\n  include: [Observation:subject, Patient:general-practitioner]\n"
        + "  include-wildcard: true\n  include-iterate: true\n");
    allowed(open, "Observation?subject=Patient/1&_include=*");
    allowed(open, "Observation?subject=Patient/1&_include=Observation:subject&_include:iterate=Patient:general-practitioner");
    allowed(open, "Observation?subject=Patient/1&_include:recurse=Patient:general-practitioner");
  }

  @Test
  void anIncludedTypeOutsideTheRoleTypesIsRefused() {
    PolicyEngine e = engine("search:\n  include: [Observation:subject, Observation:specimen:Specimen, DocumentReference:subject]\n");
    refused(e, "Observation?subject=Patient/1&_include=Observation:specimen:Specimen", "resource-types");
    refused(e, "Patient?_id=1&_revinclude=DocumentReference:subject", "resource-types");
  }

  // -- parameters, modifiers, OR-lists ------------------------------------------------------------

  @Test
  void theDefaultParameterListsAllowClinicalLookUpsOnly() {
    allowed(DEFAULTS, "Patient?family=martin&given=anne&birthdate=1970-01-01");
    allowed(DEFAULTS, "Patient?identifier=urn:oid:1.2|123");
    allowed(DEFAULTS, "Observation?subject=Patient/1&code=8867-4&date=ge2024-01-01&_sort=-date");
    Decision.Deny address = refused(DEFAULTS, "Patient?address-city=Paris", "search-parameters");
    assertThat(Refusals.of(address).diagnostics()).isEqualTo("Searching Patient by address-city is not allowed for role clinic"
        + " (allowed: _id, birthdate, family, gender, given, identifier, name)");
    refused(DEFAULTS, "Patient?general-practitioner=Practitioner/9", "search-parameters");
    refused(DEFAULTS, "Patient?_filter=name%20eq%20smith", "search-parameters");
    refused(DEFAULTS, "Patient?_text=diabetes", "search-parameters");
    refused(DEFAULTS, "Observation?subject=Patient/1&value-quantity=gt100", "search-parameters");
    refused(DEFAULTS, "Patient?name=smith&_sort=address", "search-parameters");
    allowed(DEFAULTS, "Patient?name=smith&_sort=-_lastUpdated");
  }

  @Test
  void aListedParameterMapReplacesTheDefaults() {
    PolicyEngine e = engine("""
        search:
          parameters:
            Patient: [name, address-city]
            "*": [patient]
        """);
    allowed(e, "Patient?address-city=Paris");
    refused(e, "Patient?birthdate=1970", "search-parameters");
    allowed(e, "Condition?patient=1");
    Decision.Deny notListed = refused(e, "Condition?patient=1&code=x", "search-parameters");
    assertThat(Refusals.of(notListed).diagnostics()).endsWith("(allowed: patient)");
    PolicyEngine any = engine("search:\n  parameters: {Patient: [\"*\"]}\n");
    allowed(any, "Patient?address-city=Paris&telecom=123");
    Decision.Deny nothing = refused(any, "Observation?subject=Patient/1", "search-parameters");
    assertThat(Refusals.of(nothing).diagnostics()).endsWith("(no search parameters are allowed for it)");
  }

  @Test
  void modifiersOutsideTheAllowedListAreRefused() {
    allowed(DEFAULTS, "Patient?name:exact=Smith");
    allowed(DEFAULTS, "Observation?subject:Patient=1&code:text=glucose");
    allowed(DEFAULTS, "Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123");
    Decision.Deny contains = refused(DEFAULTS, "Patient?name:contains=smi", "search-modifiers");
    assertThat(Refusals.of(contains).diagnostics()).isEqualTo("Modifier :contains (on name) is not allowed for role clinic"
        + " (allowed: exact, identifier, missing, of-type, text)");
    refused(DEFAULTS, "Patient?gender:not=male", "search-modifiers");
    refused(DEFAULTS, "Observation?subject=Patient/1&code:below=http://snomed.info/sct|123", "search-modifiers");
    PolicyEngine e = engine("search:\n  modifiers: [contains]\n");
    allowed(e, "Patient?name:contains=smi");
    refused(e, "Patient?name:exact=a", "search-modifiers");
  }

  @Test
  void orListsLongerThanTheMaximumAreRefusedAndEscapedCommasDoNotCount() {
    allowed(DEFAULTS, "Patient?_id=1,2,3,4,5,6,7,8,9,10");
    Decision.Deny d = Fhir.denied(decide(DEFAULTS, "Patient?_id=1,2,3,4,5,6,7,8,9,10,11"));
    assertThat(d.rule()).isEqualTo("search-or-values");
    assertThat(Refusals.of(d).status()).isEqualTo(403);
    assertThat(Refusals.of(d).diagnostics()).isEqualTo("Parameter _id carries 11 comma-separated values; role clinic allows at most 10");
    refused(DEFAULTS, "Observation?subject=Patient/1,Patient/2,Patient/3,Patient/4,Patient/5,Patient/6,Patient/7,"
        + "Patient/8,Patient/9,Patient/10,Patient/11", "search-or-values");
    allowed(DEFAULTS, "Patient?name=a\\,b\\,c\\,d\\,e\\,f\\,g\\,h\\,i\\,j\\,k\\,l");
    PolicyEngine two = engine("search:\n  max-or-values: 2\n");
    allowed(two, "Patient?_id=1,2");
    refused(two, "Patient?_id=1,2,3", "search-or-values");
  }

  @Test
  void chainsAndReverseChainsAreRefusedUnlessAllowed() {
    Decision.Deny chain = refused(DEFAULTS, "Observation?subject:Patient.name=smith", "search-chains");
    assertThat(Refusals.of(chain).diagnostics()).doesNotContain("smith");
    refused(DEFAULTS, "Observation?subject.name=smith", "search-chains");
    refused(DEFAULTS, "Patient?_has:Observation:subject:code=1234-5", "search-has");
    PolicyEngine e = engine("search:\n  chains: true\n  has: true\n  require-patient-criterion: false\n");
    allowed(e, "Observation?subject:Patient.name=smith");
    allowed(e, "Patient?_has:Observation:subject:code=1234-5");
  }

  /**
   * Adversarial sweep 6: a role that allows {@code _has} allowed anything at its far end; the parameter a reverse chain
   * ends in is held to the role's rules like one of its type's own (chains, modifiers, OR-values, selectivity).
   */
  @Test
  void theParameterAReverseChainEndsInIsHeldToTheSearchRules() {
    PolicyEngine e = engine("search:\n  has: true\n  max-or-values: 3\n");
    refused(e, "Patient?_has:Observation:subject:value-string:contains=glu", "search-modifiers");
    refused(e, "Patient?_has:Observation:subject:code:not=1234-5", "search-modifiers");
    refused(e, "Patient?_has:Observation:subject:performer:Practitioner.name=house", "search-chains");
    refused(e, "Patient?_has:Observation:subject:_has:Provenance:target:agent.name=house", "search-chains");
    refused(e, "Patient?_has:Observation:subject:code=a,b,c,d", "search-or-values");
    refused(e, "Patient?_has:Observation:subject:status=final", "search-unselective");
    refused(e, "Patient?_has:Observation:subject:code:missing=false", "search-unselective");
    allowed(e, "Patient?_has:Observation:subject:code=1234-5");
    allowed(e, "Patient?_has:Observation:subject:_has:Provenance:target:agent=Practitioner/1");
    allowed(e, "Patient?_has:Observation:subject:code:text=glucose");
    allowed(engine("search:\n  has: true\n  modifiers: [contains]\n"), "Patient?_has:Observation:subject:value-string:contains=glu");
  }

  /**
   * Adversarial probe 11: in a search of patients, a reverse chain through records joined by another reference than the
   * one that makes a record the matched patient's own found other patients' records and told about them, uncharged
   * ({@code Patient?_id=p2&_has:Patient:link:birthdate=<guess>}: the birth date of the patient whose record links to
   * p2, seen against HAPI FHIR's JPA server). It must join by the record's own patient, or be one link naming them.
   */
  @Test
  void aReverseChainFromPatientsThroughOtherPatientsRecordsMustNameThem() {
    PolicyEngine e = engine("""
        search:
          has: true
          chains: true
          require-patient-criterion: false
          parameters: {"*": ["*"]}
        """);
    for (String t : List.of("Patient?_id=p2&_has:Patient:link:birthdate=1961-04-05",
        "Patient?_has:Observation:performer:code=1234-5", "Patient?_has:Patient:general-practitioner:name=x",
        "Patient?_has:Encounter:participant:status=finished",
        "Patient?_id=p2&_has:Group:member:member.birthdate=1961-04-05")) {
      Decision.Deny d = refused(e, t, "search-has");
      assertThat(Refusals.of(d).diagnostics()).as(t).contains("other patients").contains("role clinic")
          .doesNotContain("1961");
    }
    allowed(e, "Patient?_has:Patient:link:_id=p7");
    allowed(e, "Patient?_has:Observation:performer:patient=Patient/p7");
    allowed(e, "Patient?_has:Observation:patient:code=1234-5");
    allowed(e, "Patient?_has:Observation:subject:code=1234-5");
    allowed(e, "Patient?_has:Encounter:subject:_id=e1");
    allowed(e, "Patient?_has:Observation:subject:_has:Provenance:target:agent=Practitioner/1");
  }

  /**
   * Adversarial sweep 10: a reverse chain through patients or their records, in a search of a type that holds none,
   * answered about patients the answer does not show ({@code Practitioner?_has:Patient:general-practitioner:identifier=
   * <MRN>}: the MRN's GP), uncharged. It must be one link that names the patients, who are then charged.
   */
  @Test
  void aReverseChainFromRecordsOfNoPatientThroughAPatientsRecordsMustNameThePatient() {
    PolicyEngine e = engine("""
        search:
          has: true
          chains: true
          require-patient-criterion: false
          parameters: {"*": ["*"]}
        """);
    for (String t : List.of("Practitioner?_has:Patient:general-practitioner:identifier=urn:mrn|7",
        "Practitioner?_has:Encounter:participant:_id=e1", "Practitioner?_has:Encounter:participant:patient.name=smith",
        "Practitioner?_has:Encounter:participant:patient:missing=false&name=house",
        "Practitioner?_has:PractitionerRole:practitioner:_has:Encounter:participant:patient=Patient/1",
        "Practitioner?_has:Encounter:participant:_has:Observation:encounter:subject=Patient/1",
        "?_type=Practitioner&_has:Encounter:participant:_id=e1", "Practitioner?_has:Patient:general-practitioner:_id=1:x")) {
      Decision.Deny d = refused(e, t, "search-has");
      assertThat(Refusals.of(d).diagnostics()).as(t).contains("names them").contains("role clinic").doesNotContain("urn:mrn");
    }
    allowed(e, "Practitioner?_has:Encounter:participant:patient=Patient/1");
    allowed(e, "Practitioner?_has:Encounter:participant:subject=Patient/1,Patient/2");
    allowed(e, "Practitioner?_has:Encounter:participant:patient=1");
    allowed(e, "Practitioner?_has:Patient:general-practitioner:_id=1,2");
    allowed(e, "Practitioner?_has:PractitionerRole:practitioner:role=doctor");
    allowed(e, "Patient?_has:Observation:subject:code=1234-5");
    allowed(e, "Encounter?_has:Observation:encounter:code=1234-5");
    allowed(e, "Patient/1/Observation?_has:Observation:has-member:code=1234-5");
  }

  /**
   * Adversarial sweep 10: a chain through patients or their records, in a search of a type that holds none, answered
   * about patients the answer does not show ({@code Slot?schedule.actor:Patient.identifier=<MRN>}: the MRN's
   * appointment slots), uncharged. Refused now; chains in searches of patients' records, and chains that stay among
   * types that hold no patient's records, still work.
   */
  @Test
  void aChainFromRecordsOfNoPatientThroughAPatientsRecordsIsRefused() {
    PolicyEngine e = Fhir.engine(BASE.replaceFirst("resource-types: \\[[^]]*]", "resource-types: [\"*\"]") + """
        search:
          chains: true
          require-patient-criterion: false
          parameters: {"*": ["*"]}
        """);
    for (String t : List.of("Slot?schedule.actor:Patient.identifier=urn:mrn|7", "Slot?schedule.actor.birthdate=1970-01-01",
        "Slot?schedule.actor:Patient._id=7", "Linkage?item.name=smith", "?_type=Slot&schedule.actor:Patient.name=smith")) {
      Decision.Deny d = refused(e, t, "search-chains");
      assertThat(Refusals.of(d).diagnostics()).as(t).contains("does not show").contains("role clinic").doesNotContain("urn:mrn");
    }
    allowed(e, "Observation?subject:Patient.name=smith");
    allowed(e, "Encounter?subject.identifier=urn:mrn|7");
    allowed(e, "Location?organization.name=hospital");
    allowed(e, "PractitionerRole?practitioner.name=house");
  }

  // -- patient criterion ----------------------------------------------------------------------------

  /**
   * Adversarial sweep: {@code Practitioner/9/Patient} is {@code Patient?general-practitioner=Practitioner/9} (the
   * parameter that puts a Patient in a Practitioner's compartment), which search.parameters refuses by default; the
   * compartment form passed, and counted as selective.
   */
  @Test
  void aSearchInAnotherCompartmentIsHeldToTheParametersThatMakeThatCompartment() {
    for (String t : List.of("Practitioner/9/Patient", "Practitioner/9/Patient?name=smith",
        "Practitioner/9/Observation?subject=Patient/1", "Practitioner/9/Condition?patient=1")) {
      Decision.Deny d = refused(DEFAULTS, t, "search-parameters");
      assertThat(Refusals.of(d).diagnostics()).as(t).contains("compartment").contains("role clinic");
    }
    assertThat(Refusals.of(refused(DEFAULTS, "Practitioner/9/Patient", "search-parameters")).diagnostics())
        .isEqualTo("Searching Patient in a Practitioner's compartment is searching it by general-practitioner, which is "
            + "not allowed for role clinic (allowed: _id, birthdate, family, gender, given, identifier, name)");
    PolicyEngine byPractitioner = engine("search:\n  parameters:\n    Patient: [name, general-practitioner]\n");
    allowed(byPractitioner, "Practitioner/9/Patient");
    refused(byPractitioner, "Practitioner/9/Observation?subject=Patient/1", "search-parameters");
    allowed(DEFAULTS, "Patient/1/Observation");
    allowed(DEFAULTS, "Encounter/5/Observation?subject=Patient/1");
  }

  @Test
  void aCompartmentTypeMustBeSearchedForNamedPatients() {
    for (String t : List.of("Observation?code=1234-5", "Observation?_id=9", "Condition?code=x", "Encounter?date=2024",
        "Observation?subject=Group/5", "Observation?subject=7", "Observation?subject=Patient/1,Group/5",
        "Observation?subject:missing=false&code=x", "Practitioner/9/Observation", "Observation?_count=50")) {
      Decision d = decide(DEFAULTS, t);
      assertThat(d).as(t).isInstanceOf(Decision.Deny.class);
    }
    Decision.Deny d = refused(DEFAULTS, "Observation?code=1234-5", "search-patient-criterion");
    assertThat(Refusals.of(d).diagnostics()).isEqualTo("Searching Observation needs a patient criterion for role clinic "
        + "(e.g. Observation?subject=Patient/123, Observation?patient=123 or Patient/123/Observation)");
    PolicyEngine anyParameter = engine("search:\n  parameters: {\"*\": [\"*\"]}\n");
    for (String t : List.of("Observation?subject=Patient/1", "Observation?subject=Patient/1,Patient/2&code=x",
        "Observation?patient=1", "Observation?subject:Patient=1", "Condition?patient=Patient/1",
        "MedicationRequest?subject=https://epr.example/fhir/Patient/1", "Encounter?patient=1&date=2024",
        "Patient/1/Observation", "Patient/1/Condition?code=x", "Group?member=Patient/1",
        "Patient?name=smith", "Practitioner?name=house")) {
      assertThat(decide(anyParameter, t)).as(t).isInstanceOf(Decision.Allow.class);
    }
    PolicyEngine off = engine("search:\n  require-patient-criterion: false\n");
    allowed(off, "Observation?code=1234-5");
  }

  @Test
  void aSystemSearchNamesItsTypesAndTheirPatient() {
    refused(DEFAULTS, "?_id=1", "resource-types");
    refused(DEFAULTS, "?_type=Binary&_id=1", "resource-types");
    refused(DEFAULTS, "?_type=Observation,Condition&clinical-status=active", "search-parameters");
    refused(DEFAULTS, "?_type=Observation,Condition&_id=1", "search-patient-criterion");
    allowed(DEFAULTS, "?_type=Observation,Condition&patient=Patient/1");
    PolicyEngine every = Fhir.engine(BASE.replace("resource-types: [Patient, Observation, Condition, Encounter, "
        + "MedicationRequest, Group, Practitioner, Provenance]", "resource-types: [\"*\"]"));
    Decision.Deny noType = refused(every, "?_id=1", "search-patient-criterion");
    assertThat(Refusals.of(noType).diagnostics()).contains("must name its types with _type");
  }
}
