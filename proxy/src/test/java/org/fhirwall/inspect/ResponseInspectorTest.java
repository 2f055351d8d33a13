package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;
import static org.fhirwall.inspect.Fixtures.condition;
import static org.fhirwall.inspect.Fixtures.encounter;
import static org.fhirwall.inspect.Fixtures.json;
import static org.fhirwall.inspect.Fixtures.medicationRequest;
import static org.fhirwall.inspect.Fixtures.observation;
import static org.fhirwall.inspect.Fixtures.organization;
import static org.fhirwall.inspect.Fixtures.patient;
import static org.fhirwall.inspect.Fixtures.practitioner;
import static org.fhirwall.inspect.Fixtures.searchset;
import static org.fhirwall.inspect.Fixtures.xml;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.fhirwall.fhir.PatientCompartment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Location;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

class ResponseInspectorTest {
  static final String FHIR_JSON = "application/fhir+json;charset=UTF-8";
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final PatientCompartment COMPARTMENT = PatientCompartment.from(R4);
  static final InspectorSettings SETTINGS = new InspectorSettings(List.of(BASE + "/"), 10_000_000, 100);

  final ResponseInspector inspector = new ResponseInspector(R4, COMPARTMENT, SETTINGS);

  // ---- helpers

  Inspection.Read read(String body) {
    return read(body.getBytes(UTF_8), FHIR_JSON, null);
  }

  Inspection.Read read(byte[] body, String contentType, String contentEncoding) {
    Inspection inspection = inspector.inspect(new ResponseBody(body, contentType, contentEncoding));
    assertThat(inspection).isInstanceOf(Inspection.Read.class);
    Inspection.Read read = (Inspection.Read) inspection;
    assertUrlOffsetsPointAtTheirStrings(read);
    return read;
  }

  Inspection.Unreadable unreadable(byte[] body, String contentType, String contentEncoding) {
    Inspection inspection = inspector.inspect(new ResponseBody(body, contentType, contentEncoding));
    assertThat(inspection).isInstanceOf(Inspection.Unreadable.class);
    return (Inspection.Unreadable) inspection;
  }

  Inspection.Unreadable unreadable(String body) {
    return unreadable(body.getBytes(UTF_8), FHIR_JSON, null);
  }

  static void assertUrlOffsetsPointAtTheirStrings(Inspection.Read read) {
    for (UrlOccurrence url : read.urls()) {
      byte[] token = Arrays.copyOfRange(read.json(), url.start(), url.end());
      try {
        assertThat(MAPPER.readValue(token, String.class)).as("token at %d", url.start()).isEqualTo(url.value());
      } catch (IOException e) {
        throw new AssertionError("no JSON string at " + url.start() + ": " + new String(token, UTF_8), e);
      }
    }
  }

  static Set<String> keys(String... ids) {
    return Arrays.stream(ids).map(PatientKeys::patient).collect(Collectors.toSet());
  }

  static Set<String> synthetic(Inspection.Read read) {
    return read.patients().stream().filter(k -> !PatientKeys.isIdentified(k)).collect(Collectors.toSet());
  }

  static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  // ---- reads and searches

  @Test
  void aPatientReadDisclosesThatPatient() {
    byte[] body = json(patient("123")).getBytes(UTF_8);
    Inspection.Read read = read(body, FHIR_JSON, null);
    assertThat(read.patients()).isEqualTo(keys("123"));
    assertThat(read.resourceTypes()).containsExactly("Patient");
    assertThat(read.resourceCount()).isEqualTo(1);
    assertThat(read.json()).as("identity-encoded JSON is not copied").isSameAs(body);
  }

  @Test
  void aSearchWithIncludeDisclosesMatchesAndIncludedPatients() {
    Bundle b = searchset(List.of(observation("o1", "1"), observation("o2", "2"), observation("o3", "1")),
        List.of(patient("1"), patient("2"), practitioner("pr1")));
    Inspection.Read read = read(json(b));
    assertThat(read.patients()).isEqualTo(keys("1", "2"));
    assertThat(read.resourceTypes()).containsExactlyInAnyOrder("Bundle", "Observation", "Patient", "Practitioner");
    assertThat(read.resourceCount()).isEqualTo(7);
    assertThat(read.urls()).filteredOn(UrlOccurrence::isBundleLink).extracting(UrlOccurrence::linkRelation)
        .containsExactly("self", "next");
    assertThat(read.urls()).filteredOn(u -> !u.isBundleLink()).extracting(UrlOccurrence::value)
        .containsExactlyInAnyOrder(BASE + "/Observation/o1", BASE + "/Observation/o2", BASE + "/Observation/o3",
            BASE + "/Patient/1", BASE + "/Patient/2", BASE + "/Practitioner/pr1");
  }

  @Test
  void clinicalBundlesDiscloseEveryPatientTheyReference() {
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String pid = "p" + i;
      resources.add(observation("o" + i, pid));
      resources.add(encounter("e" + i, pid));
      resources.add(medicationRequest("m" + i, pid));
      resources.add(condition("c" + i, pid));
    }
    Inspection.Read read = read(json(searchset(resources, List.of())));
    assertThat(read.patients()).isEqualTo(IntStream.range(0, 60).mapToObj(i -> "Patient/p" + i).collect(Collectors.toSet()));
    assertThat(read.resourceCount()).isEqualTo(241);
  }

  @Test
  void aGroupOfTenThousandMembersDisclosesTenThousandPatients() {
    Group g = new Group();
    g.setId("cohort");
    g.setType(Group.GroupType.PERSON);
    g.setActual(true);
    for (int i = 0; i < 10_000; i++) {
      g.addMember().setEntity(new Reference("Patient/" + i));
    }
    Inspection.Read read = read(json(g));
    assertThat(read.patients()).hasSize(10_000).contains("Patient/0", "Patient/9999");
  }

  @Test
  void everythingDisclosesOnlyItsPatient() {
    Bundle b = searchset(List.of(patient("1"), encounter("e1", "1"), observation("o1", "1"), condition("c1", "1"),
        medicationRequest("m1", "1"), practitioner("pr1"), organization("chu")), List.of());
    assertThat(read(json(b)).patients()).isEqualTo(keys("1"));
  }

  @Test
  void aBundleOfPractitionersAndOrganisationsDisclosesNoPatient() {
    Location l = new Location();
    l.setId("ward3");
    l.setName("Ward 3");
    l.setManagingOrganization(new Reference("Organization/chu"));
    Bundle b = searchset(List.of(practitioner("a"), practitioner("b"), organization("chu"), l), List.of());
    Inspection.Read read = read(json(b));
    assertThat(read.patients()).isEmpty();
    assertThat(read.resourceCount()).isEqualTo(5);
  }

  @Test
  void absoluteAndVersionedReferencesNameTheSamePatient() {
    Observation o1 = observation("o1", "1");
    o1.setSubject(new Reference("http://other.example/base/Patient/5"));
    Observation o2 = observation("o2", "1");
    o2.setSubject(new Reference(BASE + "/Patient/6/_history/3"));
    Observation o3 = observation("o3", "1");
    o3.setSubject(new Reference("Patient/7/_history/2"));
    Bundle b = searchset(List.of(o1, o2, o3), List.of());
    // HAPI strips versions from references when it encodes: put them back as an EPR may send them.
    String body = json(b).replace("\"Patient/7\"", "\"Patient/7/_history/2\"")
        .replace("\"" + BASE + "/Patient/6\"", "\"" + BASE + "/Patient/6/_history/3\"");
    assertThat(body).contains("Patient/7/_history/2", "Patient/6/_history/3");
    Inspection.Read read = read(body);
    assertThat(read.patients()).isEqualTo(keys("5", "6", "7"));
    assertThat(read.urls()).extracting(UrlOccurrence::value).contains(BASE + "/Patient/6/_history/3")
        .doesNotContain("http://other.example/base/Patient/5");
  }

  @Test
  void aNestedBundleIsReadToo() {
    Bundle inner = searchset(List.of(observation("o20", "20"), observation("o21", "21")), List.of());
    Bundle outer = new Bundle();
    outer.setType(Bundle.BundleType.COLLECTION);
    outer.addEntry().setFullUrl("urn:uuid:8a3c0b77-0ad1-4f4c-a9f5-61d3b1b3e3a0").setResource(inner);
    outer.addEntry().setResource(patient("22"));
    Inspection.Read read = read(json(outer));
    assertThat(read.patients()).isEqualTo(keys("20", "21", "22"));
    assertThat(read.urls()).filteredOn(UrlOccurrence::isBundleLink).extracting(UrlOccurrence::linkRelation)
        .containsExactly("self", "next");
    assertThat(read.resourceTypes()).containsExactlyInAnyOrder("Bundle", "Observation", "Patient");
  }

  @Test
  void parametersResourcesAreRead() {
    Parameters p = new Parameters();
    p.addParameter().setName("patient").setResource(patient("40"));
    p.addParameter().setName("subject").setValue(new Reference("Patient/41"));
    assertThat(read(json(p)).patients()).isEqualTo(keys("40", "41"));
  }

  // ---- history, batch, transaction

  @Test
  void aHistoryBundleDisclosesEveryVersionAndDeletion() {
    Bundle b = new Bundle();
    b.setType(Bundle.BundleType.HISTORY);
    Patient v2 = patient("3");
    v2.getMeta().setVersionId("2");
    b.addEntry().setFullUrl(BASE + "/Patient/3").setResource(v2)
        .setRequest(new Bundle.BundleEntryRequestComponent().setMethod(Bundle.HTTPVerb.PUT).setUrl("Patient/3"))
        .setResponse(new Bundle.BundleEntryResponseComponent().setStatus("200 OK"));
    b.addEntry().setFullUrl(BASE + "/Patient/4")
        .setRequest(new Bundle.BundleEntryRequestComponent().setMethod(Bundle.HTTPVerb.DELETE).setUrl("Patient/4"))
        .setResponse(new Bundle.BundleEntryResponseComponent().setStatus("410 Gone"));
    b.addEntry().setResource(observation("o9", "5"))
        .setRequest(new Bundle.BundleEntryRequestComponent().setMethod(Bundle.HTTPVerb.POST).setUrl("Observation"));
    Inspection.Read read = read(json(b));
    assertThat(read.patients()).isEqualTo(keys("3", "4", "5"));
  }

  @Test
  void aBatchResponseDisclosesLocationsAndOutcomes() {
    Bundle b = new Bundle();
    b.setType(Bundle.BundleType.BATCHRESPONSE);
    b.addEntry().setResponse(new Bundle.BundleEntryResponseComponent().setStatus("201 Created")
        .setLocation("Patient/7/_history/1"));
    b.addEntry().setResponse(new Bundle.BundleEntryResponseComponent().setStatus("200 OK")
        .setLocation(BASE + "/Observation/o8/_history/1")).setResource(observation("o8", "8"));
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.NOTFOUND)
        .setDiagnostics("Resource Patient/99 is not known");
    b.addEntry().setResponse(new Bundle.BundleEntryResponseComponent().setStatus("404 Not Found").setOutcome(oo));
    Inspection.Read read = read(json(b));
    assertThat(read.patients()).as("the outcome's words name Patient/99").isEqualTo(keys("7", "8", "99"));
    assertThat(read.resourceTypes()).containsExactlyInAnyOrder("Bundle", "Observation", "OperationOutcome");
    assertThat(read.urls()).extracting(UrlOccurrence::value)
        .containsExactlyInAnyOrder("Patient/7/_history/1", BASE + "/Observation/o8/_history/1");
  }

  @Test
  void anOperationOutcomeDisclosesThePatientsItsWordsName() {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.PROCESSING)
        .setDiagnostics("Patient/99 could not be processed");
    assertThat(read(json(oo)).patients()).isEqualTo(keys("99"));
    oo.getIssueFirstRep().addExtension(new Extension("http://example.org/affected", new Reference("Patient/98")));
    assertThat(read(json(oo)).patients()).isEqualTo(keys("98", "99"));
  }

  /** HAPI FHIR's JPA server, refusing to delete an organization a patient refers to (409): the patient is in its words only. */
  @Test
  void aConflictsOutcomeDisclosesTheReferringPatientItNames() {
    String body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\","
        + "\"diagnostics\":\"Unable to delete Organization/org1 because at least one resource has a reference to this "
        + "resource. First reference found was resource Patient/p1 in path Patient.managingOrganization\"}]}";
    assertThat(read(body).patients()).isEqualTo(keys("p1"));
    assertThat(read(body.replace("Patient/p1", "Patient\\/p1")).patients()).as("a slash escaped").isEqualTo(keys("p1"));
    assertThat(read(body.replace("Patient/p1 in", "Patient%2Fp1.")).patients()).as("URL-encoded, ending a sentence")
        .isEqualTo(keys("p1", "p1."));
    byte[] inXml = xml((Resource) R4.newJsonParser().parseResource(body)).getBytes(UTF_8);
    assertThat(read(inXml, "application/fhir+xml", null).patients()).as("the same outcome in XML").isEqualTo(keys("p1"));
  }

  @Test
  void wordsOutsideAnOperationOutcomeAreNotRead() {
    Observation o = observation("o1", "1");
    o.getCode().setText("see Patient/2");
    assertThat(read(json(o)).patients()).isEqualTo(keys("1"));
  }

  // ---- contained resources and references that do not resolve

  @Test
  void aContainedPatientCountsAsAnUnidentifiedPatient() {
    Patient contained = patient("p1");
    MedicationRequest m = medicationRequest("m1", "x");
    m.addContained(contained);
    m.setSubject(new Reference("#p1"));
    String body = json(m);
    assertThat(body).contains("\"contained\"").contains("\"#p1\"");
    Inspection.Read read = read(body);
    assertThat(read.patients()).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNIDENTIFIED_PREFIX));
    assertThat(read.resourceTypes()).containsExactlyInAnyOrder("MedicationRequest", "Patient");
    assertThat(read.resourceCount()).isEqualTo(2);
    assertThat(read(body).patients()).as("stable across reads").isEqualTo(read.patients());
  }

  @Test
  void referencesInsideContainedResourcesCount() {
    String body = """
        {"resourceType":"DiagnosticReport","id":"dr1","status":"final","code":{"text":"panel"},
         "contained":[
           {"resourceType":"Observation","id":"obs1","status":"final","code":{"text":"k"},"subject":{"reference":"Patient/9"}},
           {"resourceType":"Practitioner","id":"pr","name":[{"family":"Durand"}]}],
         "subject":{"reference":"Patient/9"},
         "performer":[{"reference":"#pr"}],
         "result":[{"reference":"#obs1"}]}""";
    Inspection.Read read = read(body);
    assertThat(read.patients()).isEqualTo(keys("9"));
    assertThat(read.resourceCount()).isEqualTo(3);
  }

  @Test
  void anOwnerReferenceToAMissingContainedResourceCounts() {
    String body = """
        {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"k"},
         "contained":[{"resourceType":"Practitioner","id":"pr"}],
         "subject":{"reference":"#gone"},"performer":[{"reference":"#pr"}]}""";
    assertThat(synthetic(read(body))).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
  }

  @Test
  void anIdentifierOnlySubjectCountsOncePerIdentifier() {
    String obs = """
        {"resourceType":"Observation","id":"%s","status":"final","code":{"text":"k"},
         "subject":{"identifier":{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"%s"}}}""";
    String body = """
        {"resourceType":"Bundle","type":"searchset","entry":[{"resource":%s},{"resource":%s},{"resource":%s}]}"""
        .formatted(obs.formatted("o1", "111"), obs.formatted("o2", "111"), obs.formatted("o3", "222"));
    Inspection.Read read = read(body);
    assertThat(read.patients()).hasSize(2).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
    assertThat(read.patients().toString()).doesNotContain("111").doesNotContain("222");
  }

  @Test
  void aDisplayOnlyOwnerReferenceCountsButATypedOneDoesNot() {
    String body = """
        {"resourceType":"Bundle","type":"searchset","entry":[
         {"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"k"},
           "subject":{"reference":"Patient/1"},"performer":[{"display":"Mrs Martin (mother)"}]}},
         {"resource":{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"k"},
           "subject":{"reference":"Group/5"},"performer":[{"reference":"Practitioner/1"},{"type":"Device","display":"pump"}]}},
         {"resource":{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},
           "subject":{"type":"Patient","display":"Claire Martin"}}},
         {"resource":{"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},
           "subject":{"reference":"Patient/2"},"participant":[{"individual":{"display":"Dr X"}}]}}]}""";
    Inspection.Read read = read(body);
    assertThat(read.patients()).containsAll(keys("1", "2"));
    // o1's performer (an owner path of Observation) and e1's subject; Encounter.participant.individual is no owner path
    assertThat(synthetic(read)).hasSize(2);
  }

  @Test
  void urnReferencesResolveAgainstTheBundle() {
    String body = """
        {"resourceType":"Bundle","type":"document","entry":[
         {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001","resource":{"resourceType":"Composition","id":"c1",
           "status":"final","type":{"text":"letter"},"title":"t","date":"2024-11-25",
           "subject":{"reference":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"},
           "author":[{"reference":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000003"}]}},
         {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","id":"50"}},
         {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000003","resource":{"resourceType":"Practitioner","id":"d"}},
         {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000004","resource":{"resourceType":"Observation","id":"o",
           "status":"final","code":{"text":"k"},"subject":{"reference":"urn:uuid:aaaaaaaa-0000-4000-8000-00000000dead"}}}]}""";
    Inspection.Read read = read(body);
    assertThat(read.patients()).contains("Patient/50").hasSize(2);
    assertThat(synthetic(read)).hasSize(1);
  }

  @Test
  void aReferenceTypedPatientCountsOutsideTheCompartmentToo() {
    String body = """
        {"resourceType":"Task","id":"t1","status":"requested","intent":"order",
         "for":{"type":"Patient","identifier":{"system":"urn:x","value":"7"}},
         "owner":{"reference":"Practitioner/1"}}""";
    assertThat(synthetic(read(body))).hasSize(1);
    String plain = """
        {"resourceType":"Task","id":"t1","status":"requested","intent":"order","for":{"reference":"Patient/70"}}""";
    assertThat(read(plain).patients()).isEqualTo(keys("70"));
  }

  @Test
  void aConditionalPatientReferenceCountsAsUnresolved() {
    String body = """
        {"resourceType":"Observation","id":"o","status":"final","code":{"text":"k"},
         "subject":{"reference":"Patient?identifier=urn:x|7"}}""";
    assertThat(read(body).patients()).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
  }

  @Test
  void resourceTypeNeedNotComeFirst() {
    String body = """
        {"id":"o","status":"final","code":{"text":"k"},"subject":{"identifier":{"value":"7"}},"resourceType":"Observation"}""";
    assertThat(synthetic(read(body))).hasSize(1);
    String bundle = """
        {"type":"searchset","entry":[{"resource":{"id":"77","name":[{"family":"X"}],"resourceType":"Patient"}}],
         "resourceType":"Bundle"}""";
    Inspection.Read read = read(bundle);
    assertThat(read.patients()).isEqualTo(keys("77"));
    assertThat(read.resourceCount()).isEqualTo(2);
  }

  @Test
  void aPatientWithTwoIdMembersCountsBoth() {
    assertThat(read("{\"resourceType\":\"Patient\",\"id\":\"1\",\"id\":\"2\"}").patients()).isEqualTo(keys("1", "2"));
  }

  @Test
  void anOwnerPathIsMatchedOnTheBodysBytesAndThroughEscapes() {
    String plain = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"display\":\"Claire Martin\"}}";
    Set<String> counted = read(plain).patients();
    assertThat(counted).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
    assertThat(read(plain.replace("\"subject\"", "\"subj\\u0065ct\"")).patients()).isEqualTo(counted);
    assertThat(read(plain.replace("\"subject\"", "\"subjecx\"")).patients()).isEmpty();
    assertThat(read(plain.replace("\"subject\"", "\"subjec\\u0078\"")).patients()).isEmpty();
    assertThat(read(plain.replace("\"subject\":{", "\"extension\":[{\"url\":\"u\",\"valueReference\":{\"display\":\"d\"}}],\"subject\":{"))
        .patients()).as("a display-only reference off the owner paths").isEqualTo(counted);
  }

  @Test
  void aPatientWithoutIdStillCounts() {
    assertThat(read("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"X\"}]}").patients())
        .hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNIDENTIFIED_PREFIX));
  }

  // ---- Binary

  @Test
  void anOpaqueBinaryCountsItsSecurityContextPatient() {
    Binary b = new Binary();
    b.setId("b1");
    b.setContentType("application/pdf");
    b.setData("%PDF-1.4 discharge letter".getBytes(UTF_8));
    b.setSecurityContext(new Reference("Patient/11"));
    assertThat(read(json(b)).patients()).isEqualTo(keys("11"));
  }

  @Test
  void anOpaqueBinaryWithoutPatientCountsAsOneUnresolvedPatient() {
    Binary b = new Binary();
    b.setId("b2");
    b.setContentType("application/pdf");
    b.setData("%PDF-1.4 discharge letter".getBytes(UTF_8));
    b.setSecurityContext(new Reference("DocumentReference/d1"));
    Set<String> first = read(json(b)).patients();
    assertThat(first).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
    assertThat(read(json(b)).patients()).isEqualTo(first);
  }

  @Test
  void aBinaryHoldingFhirIsReadThrough() {
    Binary b = new Binary();
    b.setId("b3");
    b.setContentType("application/fhir+json");
    b.setData(json(searchset(List.of(patient("30"), patient("31")), List.of())).getBytes(UTF_8));
    Inspection.Read read = read(json(b));
    assertThat(read.patients()).isEqualTo(keys("30", "31"));
    assertThat(read.resourceTypes()).containsExactlyInAnyOrder("Binary", "Bundle", "Patient");

    b.setData("{\"resourceType\":\"Bundle\",\"entry\":[".getBytes(UTF_8));
    assertThat(unreadable(json(b).getBytes(UTF_8), FHIR_JSON, null).reason()).contains("inline FHIR content unreadable");
  }

  @Test
  void theBinariesOfAnAnswerAreNamedWhereverTheyStand() {
    Binary file = new Binary();
    file.setId("file-1");
    file.setContentType("application/fhir+ndjson");
    file.setData("{\"resourceType\":\"Patient\",\"id\":\"40\"}\n".getBytes(UTF_8));
    assertThat(read(json(file)).binaries()).containsExactly("file-1");
    Binary other = new Binary();
    other.setId("file-2");
    other.setContentType("application/pdf");
    other.setData("%PDF".getBytes(UTF_8));
    Inspection.Read bundle = read(json(searchset(List.of(file, other, patient("41")), List.of())));
    assertThat(bundle.binaries()).containsExactlyInAnyOrder("file-1", "file-2");
    Binary nested = new Binary();
    nested.setId("outer");
    nested.setContentType("application/fhir+json");
    nested.setData(json(other).getBytes(UTF_8));
    assertThat(read(json(nested)).binaries()).as("a Binary inside a Binary too").containsExactlyInAnyOrder("outer", "file-2");
    assertThat(read(json(patient("42"))).binaries()).isEmpty();
  }

  @Test
  void aBinaryOfPlainJsonThatIsNotFhirIsOpaque() {
    Binary b = new Binary();
    b.setId("b4");
    b.setContentType("application/json");
    b.setData("{\"rows\":[1,2,3]}".getBytes(UTF_8));
    assertThat(read(json(b)).patients()).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
    String dataFirst = "{\"data\":\"JVBERi0xLjQ=\",\"contentType\":\"application/pdf\",\"id\":\"b9\",\"resourceType\":\"Binary\"}";
    assertThat(read(dataFirst).patients()).hasSize(1).allSatisfy(k -> assertThat(k).startsWith(PatientKeys.UNRESOLVED_PREFIX));
  }

  @Test
  void anAttachmentHoldingFhirIsReadThrough() {
    DocumentReference d = new DocumentReference();
    d.setId("d1");
    d.setStatus(Enumerations.DocumentReferenceStatus.CURRENT);
    d.setSubject(new Reference("Patient/60"));
    d.addContent().getAttachment().setContentType("application/fhir+json")
        .setData(json(searchset(List.of(patient("61"), patient("62")), List.of())).getBytes(UTF_8));
    d.addContent().getAttachment().setContentType("application/pdf").setData("%PDF-1.4".getBytes(UTF_8));
    Inspection.Read read = read(json(d));
    assertThat(read.patients()).isEqualTo(keys("60", "61", "62"));
    assertThat(read.resourceCount()).isEqualTo(4);
  }

  // ---- formats and encodings

  @Test
  void xmlGivesTheSamePatientsAsJson() {
    Bundle b = searchset(List.of(observation("o1", "1"), encounter("e2", "2"), condition("c3", "3"), medicationRequest("m4", "4")),
        List.of(patient("1"), practitioner("pr1")));
    Inspection.Read fromJson = read(json(b));
    Inspection.Read fromXml = read(xml(b).getBytes(UTF_8), "application/fhir+xml;charset=UTF-8", null);
    assertThat(fromXml.patients()).isEqualTo(fromJson.patients()).isEqualTo(keys("1", "2", "3", "4"));
    assertThat(fromXml.resourceTypes()).isEqualTo(fromJson.resourceTypes());
    assertThat(fromXml.resourceCount()).isEqualTo(fromJson.resourceCount());
    assertThat(new String(fromXml.json(), UTF_8)).startsWith("{\"resourceType\":\"Bundle\"");
    assertThat(fromXml.urls()).filteredOn(UrlOccurrence::isBundleLink).hasSize(2);
  }

  @Test
  void xmlWithADoctypeIsRefused() {
    String body = "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/></Patient>";
    assertThat(unreadable(body.getBytes(UTF_8), "application/fhir+xml", null).reason()).contains("DOCTYPE");
  }

  @Test
  void deeplyNestedXmlIsRefused() {
    String body = "<Basic xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/>" + "<extension url=\"u\">".repeat(5_000)
        + "</extension>".repeat(5_000) + "</Basic>";
    assertThat(unreadable(body.getBytes(UTF_8), "application/fhir+xml", null).reason()).contains("deeper than 100");
    unreadable("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"></Patient>".getBytes(UTF_8), "application/fhir+xml", null);
  }

  @Test
  void gzipAndDeflateAreDecoded() throws IOException {
    byte[] plain = json(searchset(List.of(observation("o1", "1"), observation("o2", "2")), List.of())).getBytes(UTF_8);
    Inspection.Read gz = read(gzip(plain), FHIR_JSON, "gzip");
    assertThat(gz.patients()).isEqualTo(keys("1", "2"));
    assertThat(gz.json()).isEqualTo(plain);

    ByteArrayOutputStream zlib = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(zlib)) {
      out.write(plain);
    }
    assertThat(read(zlib.toByteArray(), FHIR_JSON, "deflate").patients()).isEqualTo(keys("1", "2"));

    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(raw, new Deflater(Deflater.DEFAULT_COMPRESSION, true))) {
      out.write(plain);
    }
    assertThat(read(raw.toByteArray(), FHIR_JSON, "Deflate").patients()).isEqualTo(keys("1", "2"));
    assertThat(read(plain, FHIR_JSON, "identity").json()).isSameAs(plain);
  }

  @Test
  void aZipBombIsUnreadable() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"id\":\"".getBytes(UTF_8));
      byte[] zeros = new byte[1 << 20];
      Arrays.fill(zeros, (byte) 'a');
      for (int i = 0; i < 40; i++) {
        gz.write(zeros);
      }
    }
    assertThat(out.size()).isLessThan(200_000);
    assertThat(unreadable(out.toByteArray(), FHIR_JSON, "gzip").reason()).contains("larger than 10000000");
  }

  @Test
  void corruptOrUnknownEncodingsAreUnreadable() throws IOException {
    byte[] gz = gzip(json(patient("1")).getBytes(UTF_8));
    unreadable(Arrays.copyOf(gz, gz.length / 2), FHIR_JSON, "gzip");
    unreadable(json(patient("1")).getBytes(UTF_8), FHIR_JSON, "gzip");
    unreadable(json(patient("1")).getBytes(UTF_8), FHIR_JSON, "br");
    unreadable(json(patient("1")).getBytes(UTF_8), "application/fhir+json;charset=ISO-8859-1", null);
  }

  @Test
  void ndjsonIsReadLineByLine() {
    String body = json(patient("1")) + "\n" + json(observation("o2", "2")) + "\n" + json(encounter("e3", "3")) + "\n";
    byte[] bytes = body.getBytes(UTF_8);
    Inspection.Read read = read(bytes, "application/fhir+ndjson", null);
    assertThat(read.patients()).isEqualTo(keys("1", "2", "3"));
    assertThat(read.resourceCount()).isEqualTo(3);
    assertThat(read.json()).isSameAs(bytes);
    assertThat(read(bytes, "application/ndjson", null).patients()).isEqualTo(keys("1", "2", "3"));
    assertThat(unreadable((body + "[1]\n").getBytes(UTF_8), "application/fhir+ndjson", null).reason()).contains("not a FHIR resource");
  }

  @Test
  void anEmptyBodyDisclosesNothing() {
    Inspection.Read read = read(new byte[0], null, null);
    assertThat(read.patients()).isEmpty();
    assertThat(read.resourceCount()).isZero();
    assertThat(read(new byte[0], FHIR_JSON, null).patients()).isEmpty();
    assertThat(read(" \r\n".getBytes(UTF_8), FHIR_JSON, null).patients()).isEmpty();
  }

  @Test
  void aBodyWithoutContentTypeIsReadWhenItIsJson() {
    assertThat(read(json(patient("1")).getBytes(UTF_8), null, null).patients()).isEqualTo(keys("1"));
    unreadable("<html>hi</html>".getBytes(UTF_8), null, null);
  }

  @Test
  void nonFhirBodiesAreUnreadable() {
    assertThat(unreadable("<html><body>Patient/1 Martin</body></html>".getBytes(UTF_8), "text/html;charset=utf-8", null)
        .reason()).doesNotContain("Patient/1");
    unreadable("%PDF-1.4".getBytes(UTF_8), "application/pdf", null);
    unreadable("<html><body>x</body></html>".getBytes(UTF_8), "application/xhtml+xml", null);
  }

  // ---- malformed input fails closed, without patient data in the reason

  @Test
  void malformedJsonIsUnreadable() {
    String body = "{\"resourceType\":\"Patient\",\"id\":\"4711\" \"name\":[{\"family\":\"Martin\"}]}";
    Inspection.Unreadable u = unreadable(body);
    assertThat(u.reason()).contains("malformed").doesNotContain("4711").doesNotContain("Martin");
    unreadable("{\"resourceType\":\"Patient\",\"id\":\"4711\",}");
    unreadable("{\"resourceType\":\"Patient\",\"id\":'4711'}");
  }

  @Test
  void truncatedJsonIsUnreadable() {
    String body = json(searchset(List.of(observation("o1", "4711"), patient("4712")), List.of()));
    for (int cut : new int[] {1, body.length() / 3, body.length() / 2, body.length() - 1}) {
      Inspection.Unreadable u = unreadable(body.substring(0, cut));
      assertThat(u.reason()).doesNotContain("4711").doesNotContain("Martin");
    }
  }

  @Test
  void aDepthBombIsUnreadable() {
    String body = "{\"resourceType\":\"Basic\",\"id\":\"x\",\"extension\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    assertThat(unreadable(body).reason()).contains("deeper than 100");
    String objects = "{\"resourceType\":\"Basic\",\"id\":\"x\",\"a\":" + "{\"a\":".repeat(150) + "1" + "}".repeat(151);
    assertThat(unreadable(objects).reason()).contains("deeper than 100");
  }

  @Test
  void somethingOtherThanOneResourceIsUnreadable() {
    unreadable("[{\"resourceType\":\"Patient\",\"id\":\"1\"}]");
    unreadable("\"Patient/1\"");
    unreadable("{\"id\":\"1\"}");
    unreadable("{\"resourceType\":\"NotAType\",\"id\":\"1\"}");
    unreadable("{\"resourceType\":42}");
    unreadable("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":7}}");
    unreadable("{\"resourceType\":\"Patient\",\"id\":\"1\"}{\"resourceType\":\"Patient\",\"id\":\"2\"}");
    unreadable("{\"resourceType\":\"Patient\",\"resourceType\":\"Practitioner\",\"id\":\"2\"}");
  }

  // ---- URLs to rewrite

  @Test
  void stringsStartingWithTheUpstreamBaseAreReported() {
    Encounter e = encounter("e1", "1");
    e.addExtension(new Extension("http://example.org/see", new org.hl7.fhir.r4.model.UriType(BASE + "/Encounter/e0")));
    e.addExtension(new Extension("http://example.org/not", new org.hl7.fhir.r4.model.UriType(BASE + "x/Encounter/e0")));
    e.addExtension(new Extension("http://example.org/esc", new org.hl7.fhir.r4.model.StringType("tab\there")));
    String body = json(e).replace(BASE + "/Encounter/e0", BASE.replace("/", "\\/") + "/Encounter/e0");
    Inspection.Read read = read(body);
    assertThat(read.urls()).extracting(UrlOccurrence::value).containsExactly(BASE + "/Encounter/e0");
  }

  @Test
  void escapedStringsAreReportedExactlyWhenTheirTextStartsWithTheUpstreamBase() {
    // Strings with escapes are told apart from the base by their first character when it is plain;
    // one that starts with an escape, or with the base itself, is read whole.
    String esc = BASE.replace("/", "\\/");
    String body = "{\"resourceType\":\"Encounter\",\"id\":\"e1\","
        + "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">" + BASE + "/Patient/1</div>\"},"
        + "\"extension\":["
        + "{\"url\":\"http://example.org/a\",\"valueUri\":\"" + esc + "/Encounter/e0\"},"
        + "{\"url\":\"http://example.org/b\",\"valueUri\":\"\\u0068" + BASE.substring(1) + "/Encounter/e2?x=\\\"q\\\"\"},"
        + "{\"url\":\"http://example.org/c\",\"valueString\":\"" + BASE + "/Encounter/e3\\tnote\"},"
        + "{\"url\":\"http://example.org/d\",\"valueString\":\"" + BASE + "x/Encounter/e4\\tnote\"},"
        + "{\"url\":\"http://example.org/e\",\"valueString\":\"h\\\"" + BASE + "/Encounter/e5\"},"
        + "{\"url\":\"http://example.org/f\",\"valueString\":\"\u00e9\\t" + BASE + "/Encounter/e6\"},"
        + "{\"url\":\"http://example.org/g\",\"valueString\":\"\\\\" + BASE + "/Encounter/e7\"}]}";
    Inspection.Read read = read(body);
    assertThat(read.urls()).extracting(UrlOccurrence::value).containsExactly(
        BASE + "/Encounter/e0", BASE + "/Encounter/e2?x=\"q\"", BASE + "/Encounter/e3\tnote");
  }

  @Test
  void reportedUrlsCanBeSplicedAway() {
    Bundle b = searchset(List.of(observation("o1", "1"), patient("1")), List.of());
    Inspection.Read read = read(json(b));
    List<org.fhirwall.respond.JsonSplicer.Replacement> replacements = new ArrayList<>();
    for (UrlOccurrence u : read.urls()) {
      String proxied = u.isBundleLink() ? "https://fhirwall.example/fhir/page/" + u.linkRelation()
          : u.value().replace(BASE, "https://fhirwall.example/fhir");
      replacements.add(new org.fhirwall.respond.JsonSplicer.Replacement(u, proxied));
    }
    byte[] spliced = org.fhirwall.respond.JsonSplicer.splice(read.json(), replacements);
    Bundle back = R4.newJsonParser().parseResource(Bundle.class, new String(spliced, UTF_8));
    assertThat(back.getLink("next").getUrl()).isEqualTo("https://fhirwall.example/fhir/page/next");
    assertThat(back.getEntry()).extracting(Bundle.BundleEntryComponent::getFullUrl)
        .containsExactly("https://fhirwall.example/fhir/Observation/o1", "https://fhirwall.example/fhir/Patient/1");
    assertThat(new String(spliced, UTF_8)).doesNotContain(BASE);
    assertThat(read(new String(spliced, UTF_8)).patients()).isEqualTo(read.patients());
  }

  @Test
  void escapedAndNonAsciiTextIsReadAsItsCharacters() {
    // Escapes in references, names and types are read as the characters they stand for.
    String escaped = "{\"resourceType\":\"Obs\\u0065rvation\",\"subj\\u0065ct\":{\"reference\":\"Patient\\/7\"},"
        + "\"performer\":[{\"reference\":\"Pati\\u0065nt/8\"}],\"focus\":[{\"reference\":\"Patient/9\\u00e9\"}]}";
    Inspection.Read read = read(escaped);
    assertThat(read.patients()).contains("Patient/7", "Patient/8").hasSize(3);
    assertThat(synthetic(read)).hasSize(1); // Patient/9é: not a FHIR id, a patient that cannot be resolved
    assertThat(read.resourceTypes()).containsExactly("Observation");
    // An overlong UTF-8 form of '/' (C0 AF) reads as '/', as Jackson's parser read it before.
    byte[] overlong = "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient__10\"}}".getBytes(UTF_8);
    int at = new String(overlong, UTF_8).indexOf("__");
    overlong[at] = (byte) 0xC0;
    overlong[at + 1] = (byte) 0xAF;
    assertThat(read(overlong, FHIR_JSON, null).patients()).containsExactly("Patient/10");
    // A lone continuation byte is malformed.
    overlong[at] = (byte) 0xAF;
    assertThat(unreadable(overlong, FHIR_JSON, null).reason()).contains("malformed");
  }

  @Test
  void syntheticKeysCarryNoIdentifierInClear() {
    Set<String> seen = new HashSet<>();
    seen.addAll(read("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Martin\"}]}").patients());
    seen.addAll(read("{\"resourceType\":\"Observation\",\"subject\":{\"display\":\"Claire Martin\"}}").patients());
    assertThat(seen).hasSize(2).allSatisfy(k -> assertThat(k).doesNotContain("Martin").matches("(unidentified|unresolved):[0-9a-f]{32}"));
  }

  @Test
  void valuesTheTokenizerKeepsFromTheWalkAreReadAllTheSame() {
    // JsonTokens does not hand the walk a scalar, or a string shorter than the shortest upstream
    // base, that stands in an array or under a name the walk does not act on (JsonWalk's members).
    String base = BASE; // the only base (SETTINGS' trailing '/' dropped): a string of its length may be one, one byte shorter may not
    Inspection.Read read = read("{\"resourceType\":\"Patient\",\"id\":\"5\",\"active\":true,\"multipleBirthInteger\":2,"
        + "\"name\":[{\"given\":[\"Ann\",\"" + base + "\",\"" + base.substring(1) + "\"],\"text\":\"" + base + "\"}],"
        + "\"generalPractitioner\":[{\"display\":\"x\",\"reference\":\"Practitioner/1\"}],"
        + "\"managingOrganization\":{\"display\":\"" + base + "/Organization/2\"}}");
    assertThat(read.patients()).isEqualTo(keys("5"));
    assertThat(read.urls()).extracting(UrlOccurrence::value).containsExactly(base, base, base + "/Organization/2");
    // A reference among quiet siblings counts; a name with an escape is read as its text.
    assertThat(read("{\"resourceType\":\"Observation\",\"status\":\"final\",\"valueInteger\":5,"
        + "\"subject\":{\"display\":\"x\",\"id\":\"s\",\"refer\\u0065nce\":\"Patient/3\"},"
        + "\"performer\":[{\"reference\":\"Patient/4\"}]}").patients()).isEqualTo(keys("3", "4"));
    // A reference or a resourceType that is not a string is refused, whatever scalar it is.
    for (String scalar : new String[] {"1", "-2.5e3", "true", "false"}) {
      assertThat(unreadable("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":" + scalar + "}}").reason())
          .contains("not a string");
      assertThat(unreadable("{\"resourceType\":\"Observation\",\"contained\":[{\"resourceType\":" + scalar + "}]}")
          .reason()).contains("not a string");
    }
    assertThat(read("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":null}}").resourceTypes())
        .containsExactly("Observation");
    // Quiet values are checked as strictly as any: a control character, a leading zero, a trailing comma.
    for (String bad : new String[] {"\"status\":\"fi\u0001nal\"", "\"valueInteger\":01", "\"category\":[1,]",
        "\"status\":\"final\\x\"", "\"valueBoolean\":tru"}) {
      assertThat(unreadable("{\"resourceType\":\"Observation\"," + bad + "}").reason()).as(bad).contains("malformed");
    }
  }
}
