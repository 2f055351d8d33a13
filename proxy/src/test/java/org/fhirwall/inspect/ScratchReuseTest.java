package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;
import static org.fhirwall.inspect.Fixtures.json;
import static org.fhirwall.inspect.Fixtures.observation;
import static org.fhirwall.inspect.Fixtures.patient;
import static org.fhirwall.inspect.Fixtures.searchset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirwall.fhir.PatientCompartment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * A {@link ResponseInspector} keeps one JSON walk per thread and reuses it body after body. Whatever
 * came before on that thread (a larger body, a smaller one, a body refused half-way, inline content
 * walked inside its container), each body reads exactly as a fresh inspector reads it.
 */
class ScratchReuseTest {
  static final PatientCompartment COMPARTMENT = PatientCompartment.from(R4);
  static final InspectorSettings SETTINGS = new InspectorSettings(List.of(BASE + "/"), 10_000_000, 100);
  static final String FHIR_JSON = "application/fhir+json";

  final ResponseInspector reused = new ResponseInspector(R4, COMPARTMENT, SETTINGS);

  @Test
  void bodiesOfEverySizeAndFateReadAsByAFreshInspector() {
    List<byte[]> bodies = new ArrayList<>();
    for (String text : HapiModelEquivalenceTest.corpus()) {
      bodies.add(text.getBytes(UTF_8));
    }
    bodies.add(bigSearchset(1_000)); // more keys, URLs and entries than the scratch keeps room for
    bodies.add(group(10_000));
    bodies.add(manyTypes());
    bodies.add(binaryHolding(json(searchset(List.of(patient("b1"), patient("b2")), List.of()))));
    Random random = new Random(5);
    byte[] replacements = "{}[]\",:\\/#?a0 -nt".getBytes(UTF_8);
    List<byte[]> mixed = new ArrayList<>();
    for (byte[] body : bodies) {
      mixed.add(body);
      mixed.add(Arrays.copyOf(body, random.nextInt(body.length))); // refused half-way, most of them
      for (int i = 0; i < 20; i++) {
        byte[] copy = body.clone();
        copy[random.nextInt(copy.length)] = replacements[random.nextInt(replacements.length)];
        mixed.add(copy);
      }
    }
    java.util.Collections.shuffle(mixed, random);
    int refused = 0;
    for (byte[] body : mixed) {
      String expected = summary(new ResponseInspector(R4, COMPARTMENT, SETTINGS).inspect(new ResponseBody(body, FHIR_JSON, null)));
      assertThat(summary(reused.inspect(new ResponseBody(body, FHIR_JSON, null)))).as("%s", new String(body, UTF_8))
          .isEqualTo(expected);
      refused += expected.startsWith("unreadable") ? 1 : 0;
    }
    assertThat(refused).as("refused among %d bodies", mixed.size()).isBetween(1, mixed.size() - 1);
  }

  @Test
  void aBodyRefusedAfterManyPatientsLeavesNoneToTheNext() {
    byte[] big = bigSearchset(300);
    byte[] refusedLate = new String(big, UTF_8).replace("\"resourceType\":\"Observation\"", "\"resourceType\":\"Observatio\"")
        .getBytes(UTF_8);
    assertThat(reused.inspect(new ResponseBody(refusedLate, FHIR_JSON, null))).isInstanceOf(Inspection.Unreadable.class);
    assertThat(reused.inspect(new ResponseBody(Arrays.copyOf(big, big.length - 3), FHIR_JSON, null)))
        .isInstanceOf(Inspection.Unreadable.class);
    Inspection.Read small = (Inspection.Read) reused.inspect(new ResponseBody(json(patient("only")).getBytes(UTF_8), FHIR_JSON, null));
    assertThat(small.patients()).containsExactly(PatientKeys.patient("only"));
    assertThat(small.urls()).isEmpty();
    assertThat(small.resourceTypes()).containsExactly("Patient");
    assertThat(small.resourceCount()).isEqualTo(1);
  }

  @Test
  void inlineContentIsWalkedWhileItsContainerIsUnderWayAndTheWalkIsReusedAfter() {
    byte[] binary = binaryHolding(json(searchset(List.of(patient("i1"), patient("i2")), List.of())));
    for (int i = 0; i < 3; i++) {
      Inspection.Read read = (Inspection.Read) reused.inspect(new ResponseBody(binary, FHIR_JSON, null));
      assertThat(read.patients()).containsExactlyInAnyOrder(PatientKeys.patient("i1"), PatientKeys.patient("i2"));
      assertThat(read.resourceTypes()).containsExactlyInAnyOrder("Binary", "Bundle", "Patient");
      Inspection.Read plain = (Inspection.Read) reused.inspect(new ResponseBody(json(patient("p" + i)).getBytes(UTF_8), FHIR_JSON, null));
      assertThat(plain.patients()).containsExactly(PatientKeys.patient("p" + i));
    }
  }

  @Test
  void threadsSharingOneInspectorReadAsOneThreadDoes() throws Exception {
    List<byte[]> bodies = new ArrayList<>();
    for (int n : new int[] {1, 7, 50, 200}) {
      bodies.add(bigSearchset(n));
    }
    bodies.add(group(5_000));
    bodies.add(manyTypes());
    List<String> expected = new ArrayList<>();
    for (byte[] body : bodies) {
      expected.add(summary(new ResponseInspector(R4, COMPARTMENT, SETTINGS).inspect(new ResponseBody(body, FHIR_JSON, null))));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<String>>> runs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int shift = t;
        runs.add(pool.submit(() -> {
          List<String> out = new ArrayList<>();
          for (int round = 0; round < 20; round++) {
            for (int i = 0; i < bodies.size(); i++) {
              int k = (i + shift + round) % bodies.size();
              String s = summary(reused.inspect(new ResponseBody(bodies.get(k), FHIR_JSON, null)));
              out.add(k + " " + (s.equals(expected.get(k)) ? "alike" : s));
            }
          }
          return out;
        }));
      }
      for (Future<List<String>> run : runs) {
        assertThat(run.get()).allSatisfy(line -> assertThat(line).endsWith(" alike"));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void urnReferencesResolveOnlyAgainstTheirOwnBodysEntryUrls() {
    // The entries' full URLs are kept per walk as indexes in its URLs: a urn: reference resolves
    // against its own body's entries (the last fullUrl of an entry, an entry holding a resource),
    // never against those of the body before it on this thread.
    String named = "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002";
    StringBuilder many = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
    for (int i = 0; i < 40; i++) { // more entry URLs than the scratch starts with room for
      many.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"urn:uuid:bbbbbbbb-0000-4000-8000-0000000000").append(10 + i)
          .append("\",\"resource\":{\"resourceType\":\"Basic\",\"id\":\"b").append(i).append("\"}}");
    }
    many.append(",{\"fullUrl\":\"").append(named).append("\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"50\"}}");
    many.append(",{\"fullUrl\":\"urn:uuid:x\",\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\","
        + "\"code\":{\"text\":\"k\"},\"subject\":{\"reference\":\"").append(named).append("\"}}}]}");
    String unresolved = """
        {"resourceType":"Bundle","type":"collection","entry":[
         {"fullUrl":"urn:uuid:x","resource":{"resourceType":"Observation","id":"o","status":"final","code":{"text":"k"},
           "subject":{"reference":"%s"}}}]}""".formatted(named);
    String lastFullUrlCounts = """
        {"resourceType":"Bundle","type":"collection","entry":[
         {"fullUrl":"%s","fullUrl":"urn:uuid:other","resource":{"resourceType":"Patient","id":"51"}},
         {"fullUrl":"%s"},
         {"fullUrl":"urn:uuid:x","resource":{"resourceType":"Observation","id":"o","status":"final","code":{"text":"k"},
           "subject":{"reference":"%s"}}}]}""".formatted(named, named, named);
    List<String> bodies = List.of(many.toString(), unresolved, many.toString(), lastFullUrlCounts, unresolved, many.toString());
    for (String body : bodies) {
      byte[] bytes = body.getBytes(UTF_8);
      String expected = summary(new ResponseInspector(R4, COMPARTMENT, SETTINGS).inspect(new ResponseBody(bytes, FHIR_JSON, null)));
      assertThat(expected).startsWith("read: ");
      assertThat(summary(reused.inspect(new ResponseBody(bytes, FHIR_JSON, null)))).as("%s", body).isEqualTo(expected);
    }
    Inspection.Read resolved = (Inspection.Read) reused.inspect(new ResponseBody(many.toString().getBytes(UTF_8), FHIR_JSON, null));
    assertThat(resolved.patients()).containsExactly("Patient/50");
    for (String body : List.of(unresolved, lastFullUrlCounts)) {
      Inspection.Read read = (Inspection.Read) reused.inspect(new ResponseBody(body.getBytes(UTF_8), FHIR_JSON, null));
      assertThat(read.patients()).as("%s", body).anyMatch(key -> key.startsWith(PatientKeys.UNRESOLVED_PREFIX));
    }
  }

  /** Everything a read says (patients, URLs, types, count, root type), in a stable order; or the refusal. */
  static String summary(Inspection inspection) {
    if (inspection instanceof Inspection.Unreadable u) {
      return "unreadable: " + u.reason();
    }
    Inspection.Read r = (Inspection.Read) inspection;
    List<String> urls = new ArrayList<>();
    for (UrlOccurrence u : r.urls()) {
      urls.add(u.start() + "-" + u.end() + " " + u.value() + " " + u.linkRelation());
    }
    return "read: " + new TreeSet<>(r.patients()) + " " + urls + " " + new TreeSet<>(r.resourceTypes()) + " "
        + r.resourceCount() + " " + r.rootType() + " " + r.json().length;
  }

  static byte[] bigSearchset(int entries) {
    List<Resource> matches = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      matches.add(i % 3 == 0 ? patient("p" + i) : observation("o" + i, "p" + (i / 2)));
    }
    return json(searchset(matches, List.of())).getBytes(UTF_8);
  }

  static byte[] group(int members) {
    Group g = new Group();
    g.setId("g1");
    g.setType(Group.GroupType.PERSON);
    g.setActual(true);
    for (int i = 0; i < members; i++) {
      g.addMember().getEntity().setReference("Patient/m" + i);
    }
    return json(g).getBytes(UTF_8);
  }

  /** A Bundle of more than sixteen resource types (the walk keeps sixteen apart before it needs a set). */
  static byte[] manyTypes() {
    StringBuilder s = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
    String[] types = {"Patient", "Practitioner", "Organization", "Location", "Device", "Medication", "Substance",
        "Observation", "Condition", "Encounter", "Procedure", "Immunization", "AllergyIntolerance", "CarePlan",
        "Goal", "Specimen", "Flag", "Account", "Basic", "List"};
    for (int i = 0; i < types.length; i++) {
      s.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"").append(types[i]).append("\",\"id\":\"x")
          .append(i).append("\"}}");
    }
    return s.append("]}").toString().getBytes(UTF_8);
  }

  static byte[] binaryHolding(String content) {
    Binary b = new Binary();
    b.setId("bin");
    b.setContentType("application/fhir+json");
    b.setData(content.getBytes(UTF_8));
    return json(b).getBytes(UTF_8);
  }
}
