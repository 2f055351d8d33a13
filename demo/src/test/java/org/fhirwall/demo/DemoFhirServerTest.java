package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Bundle.SearchEntryMode;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo EPR through HAPI's own client, against a 500-patient hospital. Tests that write clean
 * up after themselves (deleted resources no longer match searches), so the counts other tests
 * expect, taken from the generated data, hold in any order.
 */
class DemoFhirServerTest {

  private static final int PATIENTS = 500;
  private static SyntheticData data;
  private static DemoStore store;
  private static DemoFhirServer server;
  private static IGenericClient client;

  @BeforeAll
  static void start() {
    data = SyntheticData.generate(7, PATIENTS);
    store = DemoStore.of(data, Clock.fixed(Instant.parse("2025-06-01T08:00:00Z"), ZoneOffset.UTC));
    server = DemoFhirServer.start(store, 0);
    FhirContext context = FhirContext.forR4Cached();
    context.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
    client = context.newRestfulGenericClient(server.baseUrl());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void listensOnLoopbackUnderFhir() {
    assertThat(server.baseUrl()).isEqualTo("http://127.0.0.1:" + server.port() + "/fhir");
    assertThat(server.port()).isPositive();
  }

  @Test
  void readsAPatientWithItsVersion() {
    Patient patient = client.read().resource(Patient.class).withId("p1").execute();

    Patient expected = (Patient) resource("Patient", "p1");
    assertThat(patient.getIdElement().getIdPart()).isEqualTo("p1");
    assertThat(patient.getIdElement().getVersionIdPart()).isEqualTo("1");
    assertThat(patient.getMeta().getVersionId()).isEqualTo("1");
    assertThat(patient.getNameFirstRep().getFamily()).isEqualTo(expected.getNameFirstRep().getFamily());
    assertThat(patient.getBirthDate()).isEqualTo(expected.getBirthDate());
    assertThat(patient.getGeneralPractitionerFirstRep().getReference()).startsWith("Practitioner/pr");
  }

  @Test
  void readOfAnUnknownIdIs404() {
    assertThatThrownBy(() -> client.read().resource(Patient.class).withId("nobody").execute())
        .isInstanceOf(ResourceNotFoundException.class);
  }

  @Test
  void searchByNameMatchesFamilyPrefixesIgnoringCaseAndAccents() {
    String family = ((Patient) resource("Patient", "p1")).getNameFirstRep().getFamily();
    String prefix = TypeTable.fold(family).substring(0, 3).toUpperCase();

    List<Patient> found = allPages(client.search().forResource(Patient.class)
        .where(Patient.NAME.matches().value(prefix)).count(500).returnBundle(Bundle.class).execute(), Patient.class);

    Set<String> expected = idsOf("Patient", r -> ((Patient) r).getName().stream().anyMatch(n -> nameStartsWith(n, prefix)));
    assertThat(found).extracting(p -> p.getIdElement().getIdPart()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(expected).contains("p1");
  }

  @Test
  void pagingFollowsHapiNextLinksToTheEnd() {
    Bundle page = client.search().forResource(Patient.class).count(47).returnBundle(Bundle.class).execute();

    assertThat(page.getTotal()).isEqualTo(PATIENTS);
    assertThat(page.getLink(Bundle.LINK_NEXT).getUrl()).contains("_getpages=").contains("_getpagesoffset=47");
    List<String> ids = new ArrayList<>();
    int pages = 0;
    while (true) {
      pages++;
      page.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart()));
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        break;
      }
      page = client.loadPage().next(page).execute();
    }
    assertThat(pages).isEqualTo((PATIENTS + 46) / 47);
    assertThat(ids).hasSize(PATIENTS).doesNotHaveDuplicates().startsWith("p1", "p2", "p3");
  }

  @Test
  void countAboveTheMaximumIsCappedAt500() {
    Bundle page = client.search().byUrl("Observation?_count=2000").returnBundle(Bundle.class).execute();

    assertThat(page.getEntry()).hasSize(DemoFhirServer.MAXIMUM_PAGE_SIZE);
    assertThat(page.getTotal()).isEqualTo(data.count("Observation"));
  }

  @Test
  void summaryCountAndTotalAccurateAnswerTheTotal() {
    Bundle count = client.search().byUrl("Patient?_summary=count").returnBundle(Bundle.class).execute();
    Bundle accurate = client.search().byUrl("Observation?_total=accurate&_count=1").returnBundle(Bundle.class).execute();

    assertThat(count.getTotal()).isEqualTo(PATIENTS);
    assertThat(count.getEntry()).isEmpty();
    assertThat(accurate.getTotal()).isEqualTo(data.count("Observation"));
  }

  @Test
  void includeAddsEachMatchSubjectOnce() {
    Bundle page = client.search().byUrl("Observation?_include=Observation:subject&_count=30")
        .returnBundle(Bundle.class).execute();

    List<Observation> matches = resources(page, SearchEntryMode.MATCH, Observation.class);
    List<Patient> included = resources(page, SearchEntryMode.INCLUDE, Patient.class);
    assertThat(matches).hasSize(30);
    Set<String> subjects = matches.stream().map(o -> o.getSubject().getReference()).collect(Collectors.toSet());
    assertThat(included).extracting(p -> "Patient/" + p.getIdElement().getIdPart())
        .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(subjects);
  }

  @Test
  void revincludeAddsThePatientsObservations() {
    Bundle page = client.search().byUrl("Patient?_id=p1,p2&_revinclude=Observation:subject")
        .returnBundle(Bundle.class).execute();

    assertThat(resources(page, SearchEntryMode.MATCH, Patient.class)).extracting(p -> p.getIdElement().getIdPart())
        .containsExactly("p1", "p2");
    Set<String> expected = idsOf("Observation", r -> Set.of("Patient/p1", "Patient/p2")
        .contains(((Observation) r).getSubject().getReference()));
    assertThat(resources(page, SearchEntryMode.INCLUDE, Observation.class)).extracting(o -> o.getIdElement().getIdPart())
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void unsupportedIncludeIs400() {
    assertThatThrownBy(() -> client.search().byUrl("Observation?_include=Observation:code")
        .returnBundle(Bundle.class).execute()).isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void compartmentSearchReturnsOnlyThatPatientsObservations() {
    Bundle page = client.search().byUrl(server.baseUrl() + "/Patient/p1/Observation").returnBundle(Bundle.class).execute();

    Set<String> expected = idsOf("Observation", r -> "Patient/p1".equals(((Observation) r).getSubject().getReference()));
    assertThat(page.getTotal()).isEqualTo(expected.size());
    assertThat(resources(page, SearchEntryMode.MATCH, Observation.class)).extracting(o -> o.getIdElement().getIdPart())
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void searchesByIdentifierGenderBirthdateAndGeneralPractitionerAgreeWithTheData() {
    Patient p3 = (Patient) resource("Patient", "p3");
    String mrn = p3.getIdentifierFirstRep().getSystem() + "|" + p3.getIdentifierFirstRep().getValue();
    Bundle byIdentifier = client.search().byUrl("Patient?identifier=" + mrn).returnBundle(Bundle.class).execute();
    assertThat(byIdentifier.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly("p3");

    Bundle femalesBorn1980s = client.search().byUrl("Patient?gender=female&birthdate=ge1980-01-01&birthdate=lt1990"
        + "&_summary=count").returnBundle(Bundle.class).execute();
    assertThat(femalesBorn1980s.getTotal()).isEqualTo(idsOf("Patient", r -> {
      Patient p = (Patient) r;
      String birth = p.getBirthDateElement().getValueAsString();
      return "female".equals(p.getGender().toCode()) && birth.compareTo("1980-01-01") >= 0 && birth.compareTo("1990") < 0;
    }).size());

    String gp = p3.getGeneralPractitionerFirstRep().getReference();
    Bundle byGp = client.search().byUrl("Patient?general-practitioner=" + gp + "&_summary=count")
        .returnBundle(Bundle.class).execute();
    assertThat(byGp.getTotal()).isEqualTo(idsOf("Patient",
        r -> gp.equals(((Patient) r).getGeneralPractitionerFirstRep().getReference())).size()).isPositive();
  }

  @Test
  void chainedSubjectNameSearchFindsThePatientsObservations() {
    String family = ((Patient) resource("Patient", "p2")).getNameFirstRep().getFamily();
    Bundle page = client.search().byUrl("Observation?subject:Patient.name=" + family + "&_count=500")
        .returnBundle(Bundle.class).execute();

    Set<String> patients = idsOf("Patient", r -> ((Patient) r).getName().stream().anyMatch(n -> nameStartsWith(n, family)));
    Set<String> expected = idsOf("Observation", r -> patients.contains(
        ((Observation) r).getSubject().getReferenceElement().getIdPart()));
    assertThat(page.getTotal()).isEqualTo(expected.size());
    assertThat(page.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).contains("o" + firstObservationOf("p2"));
  }

  @Test
  void encounterByParticipantAndGroupByMember() {
    Encounter encounter = (Encounter) data.shared().stream().filter(r -> r instanceof Encounter).findFirst().orElseThrow();
    String practitioner = encounter.getParticipantFirstRep().getIndividual().getReference();
    Bundle byParticipant = client.search().byUrl("Encounter?participant=" + practitioner + "&_summary=count")
        .returnBundle(Bundle.class).execute();
    assertThat(byParticipant.getTotal()).isEqualTo(idsOf("Encounter",
        r -> practitioner.equals(((Encounter) r).getParticipantFirstRep().getIndividual().getReference())).size());

    Bundle groups = client.search().byUrl("Group?member=Patient/p5").returnBundle(Bundle.class).execute();
    assertThat(groups.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).contains("g1");
    Group large = client.read().resource(Group.class).withId(SyntheticData.LARGE_GROUP_ID).execute();
    assertThat(large.getMember()).hasSize((PATIENTS + 3) / 4);
  }

  @Test
  void everythingForOnePatientHasItsWholeRecordAndItsPractitioner() {
    Bundle everything = client.operation().onInstance(new IdType("Patient", "p1")).named("$everything")
        .withNoParameters(Parameters.class).returnResourceType(Bundle.class).useHttpGet().execute();

    Set<String> keys = everything.getEntry().stream()
        .map(e -> e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart()).collect(Collectors.toSet());
    Patient p1 = (Patient) resource("Patient", "p1");
    long record = data.shared().stream().filter(r -> "Patient/p1".equals(subjectOf(r))).count();
    assertThat(everything.getType()).isEqualTo(Bundle.BundleType.SEARCHSET);
    assertThat(keys).contains("Patient/p1", p1.getGeneralPractitionerFirstRep().getReference(), "Organization/org1");
    assertThat(keys.stream().filter(k -> !k.startsWith("Practitioner/") && !k.startsWith("Organization/")))
        .hasSize((int) record + 1);
  }

  @Test
  void everythingForAllPatientsPagesLikeASearch() {
    Bundle first = client.search().byUrl(server.baseUrl() + "/Patient/$everything?_count=100").returnBundle(Bundle.class).execute();

    int expectedPatientsAndRecords = PATIENTS + (int) data.shared().stream()
        .filter(r -> subjectOf(r) != null && subjectOf(r).startsWith("Patient/")).count();
    assertThat(first.getTotal()).isGreaterThan(expectedPatientsAndRecords);
    assertThat(first.getEntry()).hasSize(100);
    assertThat(first.getLink(Bundle.LINK_NEXT).getUrl()).contains("_getpages=");
    Bundle second = client.loadPage().next(first).execute();
    assertThat(second.getEntry()).hasSize(100);
  }

  @Test
  void batchAnswersEachGetEntryOnItsOwn() {
    Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
    batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Patient/p1");
    batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Observation?patient=p2&_count=2");
    batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Patient/nobody");
    batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Patient/p3/Condition");
    batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Patient?birthdate=ge1900&_count=5");

    Bundle response = client.transaction().withBundle(batch).execute();

    assertThat(response.getType()).isEqualTo(Bundle.BundleType.BATCHRESPONSE);
    List<BundleEntryComponent> entries = response.getEntry();
    assertThat(entries).extracting(e -> e.getResponse().getStatus())
        .containsExactly("200 OK", "200 OK", "404 Not Found", "200 OK", "200 OK");
    assertThat(((Patient) entries.get(0).getResource()).getIdElement().getIdPart()).isEqualTo("p1");
    Bundle observations = (Bundle) entries.get(1).getResource();
    assertThat(observations.getTotal()).isEqualTo(idsOf("Observation",
        r -> "Patient/p2".equals(((Observation) r).getSubject().getReference())).size());
    assertThat(entries.get(2).getResponse().getOutcome()).isNotNull();
    Bundle conditions = (Bundle) entries.get(3).getResource();
    assertThat(conditions.getEntry()).allSatisfy(e -> assertThat(subjectOf(e.getResource())).isEqualTo("Patient/p3"));
    Bundle patients = (Bundle) entries.get(4).getResource();
    assertThat(patients.getEntry()).hasSize(5);
    assertThat(patients.getTotal()).isEqualTo(PATIENTS);
    Bundle next = client.loadPage().next(patients).execute();
    assertThat(next.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly("p6", "p7", "p8", "p9", "p10");
  }

  @Test
  void transactionCreatesWithResolvedUrnReferencesAndRollsBackOnFailure() {
    Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
    Patient patient = new Patient().addName(new HumanName().setFamily("Transactionelle").addGiven("Tess"));
    transaction.addEntry().setFullUrl("urn:uuid:0b1e3c5a-1111-4a4a-9e9e-000000000001").setResource(patient)
        .getRequest().setMethod(HTTPVerb.POST).setUrl("Patient");
    Observation observation = new Observation().setSubject(new Reference("urn:uuid:0b1e3c5a-1111-4a4a-9e9e-000000000001"));
    observation.setStatus(Observation.ObservationStatus.FINAL).getCode().setText("note");
    transaction.addEntry().setResource(observation).getRequest().setMethod(HTTPVerb.POST).setUrl("Observation");

    Bundle response = client.transaction().withBundle(transaction).execute();

    assertThat(response.getEntry()).extracting(e -> e.getResponse().getStatus()).containsExactly("201 Created", "201 Created");
    IdType patientId = new IdType(response.getEntry().get(0).getResponse().getLocation());
    IdType observationId = new IdType(response.getEntry().get(1).getResponse().getLocation());
    assertThat(patientId.getIdPart()).matches("p\\d+");
    Observation stored = client.read().resource(Observation.class).withId(observationId.getIdPart()).execute();
    assertThat(stored.getSubject().getReference()).isEqualTo("Patient/" + patientId.getIdPart());

    int patientsBefore = store.count("Patient");
    Bundle failing = new Bundle().setType(Bundle.BundleType.TRANSACTION);
    failing.addEntry().setResource(new Patient().addName(new HumanName().setFamily("Neverstored")))
        .getRequest().setMethod(HTTPVerb.POST).setUrl("Patient");
    failing.addEntry().setResource(new Patient().setId("p2")).getRequest().setMethod(HTTPVerb.PUT).setUrl("Patient/p2")
        .setIfMatch("W/\"41\"");
    assertThatThrownBy(() -> client.transaction().withBundle(failing).execute())
        .isInstanceOf(ResourceVersionConflictException.class);
    assertThat(store.count("Patient")).isEqualTo(patientsBefore);
    assertThat(client.search().byUrl("Patient?family=Neverstored").returnBundle(Bundle.class).execute().getTotal()).isZero();
    assertThat(client.read().resource(Patient.class).withId("p2").execute().getMeta().getVersionId()).isEqualTo("1");

    client.delete().resourceById(observationId.toUnqualifiedVersionless()).execute();
    client.delete().resourceById(patientId.toUnqualifiedVersionless()).execute();
  }

  @Test
  void createUpdateDeleteKeepEveryVersion() {
    Patient patient = new Patient().addName(new HumanName().setFamily("Versionnée").addGiven("Vera"));
    IdType created = (IdType) client.create().resource(patient).execute().getId();
    String id = created.getIdPart();
    assertThat(created.getVersionIdPart()).isEqualTo("1");

    Patient update = new Patient().addName(new HumanName().setFamily("Versionnée").addGiven("Zéphyrine"));
    update.setId(id);
    IdType updated = (IdType) client.update().resource(update).execute().getId();
    assertThat(updated.getVersionIdPart()).isEqualTo("2");
    assertThat(client.search().byUrl("Patient?given=zephyr").returnBundle(Bundle.class).execute().getEntry())
        .extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(id);

    client.delete().resourceById(new IdType("Patient", id)).execute();

    assertThatThrownBy(() -> client.read().resource(Patient.class).withId(id).execute())
        .isInstanceOf(ResourceGoneException.class);
    Patient first = client.read().resource(Patient.class).withIdAndVersion(id, "1").execute();
    assertThat(first.getNameFirstRep().getGivenAsSingleString()).isEqualTo("Vera");
    assertThat(client.search().byUrl("Patient?family=Versionnee").returnBundle(Bundle.class).execute().getTotal()).isZero();

    Bundle history = client.history().onInstance(new IdType("Patient", id)).returnBundle(Bundle.class).execute();
    assertThat(history.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(history.getEntry()).extracting(e -> e.getRequest().getMethod())
        .containsExactly(HTTPVerb.DELETE, HTTPVerb.PUT, HTTPVerb.POST);
    assertThat(history.getEntry().get(1).getResource()).isInstanceOf(Patient.class);

    Bundle typeHistory = client.history().onType(Patient.class).returnBundle(Bundle.class).count(3).execute();
    assertThat(typeHistory.getEntry()).extracting(e -> e.getFullUrl()).allMatch(u -> u.endsWith("/Patient/" + id));
  }

  @Test
  void historyPagesByOffsetToTheEnd() {
    Bundle page = client.history().onType(Group.class).returnBundle(Bundle.class).count(2).execute();

    List<String> seen = new ArrayList<>();
    while (true) {
      page.getEntry().forEach(e -> seen.add(e.getFullUrl()));
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        break;
      }
      assertThat(page.getLink(Bundle.LINK_NEXT).getUrl()).contains("_offset=");
      page = client.loadPage().next(page).execute();
    }
    assertThat(seen).hasSize(data.count("Group")).doesNotHaveDuplicates();
    Bundle system = client.history().onServer().returnBundle(Bundle.class).count(1).execute();
    assertThat(system.getTotal()).isGreaterThanOrEqualTo(data.shared().size());
  }

  @Test
  void binaryReadsAsFhirOrRawWithItsSecurityContext() throws Exception {
    Binary binary = client.read().resource(Binary.class).withId("b1").execute();
    assertThat(binary.getContentType()).isEqualTo("text/plain");
    assertThat(binary.getSecurityContext().getReference()).isEqualTo("DocumentReference/d1");
    Binary second = client.read().resource(Binary.class).withId("b2").execute();
    assertThat(second.getSecurityContext().getReference()).startsWith("Patient/p");

    HttpResponse<String> raw = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Binary/b1")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(raw.body()).isEqualTo(new String(binary.getData(), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void rawBinaryCreateXmlAnswersAndIfMatchGoThroughHttp() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Binary"))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("scan report")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).isEqualTo(201);
    String location = created.headers().firstValue("Location").orElseThrow();
    assertThat(location).contains("/Binary/b").endsWith("/_history/1");
    IdType binaryId = new IdType(location);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Binary/" + binaryId.getIdPart())).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("scan report");

    HttpResponse<String> xml = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Patient/p1?_format=xml"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(xml.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("xml"));
    assertThat(xml.body()).contains("<Patient xmlns=\"http://hl7.org/fhir\">");

    HttpResponse<String> conflict = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Patient/p4"))
        .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"5\"")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"p4\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(conflict.body()).contains("OperationOutcome").contains("conflict");
    assertThat(store.read("Patient", "p4").version()).isEqualTo(1);

    client.delete().resourceById(binaryId.toUnqualifiedVersionless()).execute();
  }

  @Test
  void unknownSearchParameterIs400() {
    assertThatThrownBy(() -> client.search().byUrl("Patient?favourite-colour=blue").returnBundle(Bundle.class).execute())
        .isInstanceOf(InvalidRequestException.class);
  }

  // ---- oracle helpers over the generated data ----

  private static Resource resource(String type, String id) {
    return data.shared().stream().filter(r -> r.fhirType().equals(type) && r.getIdElement().getIdPart().equals(id))
        .findFirst().orElseThrow();
  }

  private static Set<String> idsOf(String type, Predicate<Resource> test) {
    return data.shared().stream().filter(r -> r.fhirType().equals(type)).filter(test)
        .map(r -> r.getIdElement().getIdPart()).collect(Collectors.toCollection(HashSet::new));
  }

  private static String firstObservationOf(String patientId) {
    return data.shared().stream().filter(r -> r instanceof Observation o && ("Patient/" + patientId)
        .equals(o.getSubject().getReference())).findFirst().orElseThrow().getIdElement().getIdPart().substring(1);
  }

  private static @org.jspecify.annotations.Nullable String subjectOf(Resource resource) {
    Map<String, java.util.function.Function<Resource, Reference>> subjects = Map.of(
        "Observation", r -> ((Observation) r).getSubject(),
        "Condition", r -> ((org.hl7.fhir.r4.model.Condition) r).getSubject(),
        "MedicationRequest", r -> ((org.hl7.fhir.r4.model.MedicationRequest) r).getSubject(),
        "Encounter", r -> ((Encounter) r).getSubject(),
        "DocumentReference", r -> ((org.hl7.fhir.r4.model.DocumentReference) r).getSubject());
    var subject = subjects.get(resource.fhirType());
    return subject == null ? null : subject.apply(resource).getReference();
  }

  private static boolean nameStartsWith(HumanName name, String prefix) {
    String folded = TypeTable.fold(prefix);
    return (name.hasFamily() && TypeTable.fold(name.getFamily()).startsWith(folded))
        || name.getGiven().stream().anyMatch(g -> TypeTable.fold(g.getValue()).startsWith(folded));
  }

  private static <T extends Resource> List<T> resources(Bundle bundle, SearchEntryMode mode, Class<T> type) {
    return bundle.getEntry().stream().filter(e -> e.getSearch().getMode() == mode).map(BundleEntryComponent::getResource)
        .filter(type::isInstance).map(type::cast).toList();
  }

  private static <T extends Resource> List<T> allPages(Bundle first, Class<T> type) {
    List<T> all = new ArrayList<>();
    Bundle page = first;
    while (true) {
      all.addAll(resources(page, SearchEntryMode.MATCH, type));
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        return all;
      }
      page = client.loadPage().next(page).execute();
    }
  }
}
