package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.fhirwall.fhir.PatientCompartment;
import org.hl7.fhir.r4.model.Resource;
import org.fhirwall.inspect.HapiModelOracle.Expectation;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The inspector answers as HAPI FHIR's model of the same body does ({@link HapiModelOracle}), on a
 * corpus of bodies (valid Bundles as HAPI writes them and hand-made edge cases) and on thousands
 * of corrupted copies of them: the same refusals, and for what it reads the same patients, URL
 * occurrences, resource types and count (at least HAPI's patients where HAPI's lenient parse drops
 * part of the body).
 */
class HapiModelEquivalenceTest {
  static final PatientCompartment COMPARTMENT = PatientCompartment.from(R4);
  static final List<InspectorSettings> SETTINGS = List.of(
      settings(List.of(BASE + "/")),
      settings(List.of(BASE, "https://other.example/fhir/")),
      settings(List.of()),
      settings(List.of("http://épr.example/fhir")));

  static InspectorSettings settings(List<String> bases) {
    return new InspectorSettings(bases, 10_000_000, 100);
  }

  /** How many bodies were compared in full (HAPI modelled them without loss), across the run; for the record. */
  static int exact;

  @Test
  void theCorpusIsReadAlike() {
    for (InspectorSettings settings : SETTINGS) {
      List<String> bodies = corpus();
      int modelled = 0;
      for (int i = 0; i < bodies.size(); i++) {
        Expectation e = assertAlike(settings, bodies.get(i).getBytes(UTF_8), false);
        if (i < HAPI_WRITTEN) {
          assertThat(e.modelled()).as("HAPI models what it wrote: %s", bodies.get(i)).isTrue();
        }
        modelled += e.modelled() ? 1 : 0;
      }
      assertThat(modelled).as("bodies compared in full").isGreaterThan(bodies.size() / 2);
    }
  }

  @Test
  void ndjsonIsReadAlike() {
    StringBuilder nd = new StringBuilder();
    for (String body : corpus()) {
      if (!body.contains("\n")) {
        nd.append(body).append('\n');
      }
    }
    for (InspectorSettings settings : SETTINGS) {
      assertAlike(settings, nd.toString().getBytes(UTF_8), true);
    }
  }

  @Test
  void corruptedCopiesAreReadOrRefusedAlike() {
    Random random = new Random(42);
    byte[] replacements = "{}[]\",:\\/#?a0 -nt\u00e9".getBytes(UTF_8);
    byte[] extra = {(byte) 0x80, (byte) 0xC3, 0x01, (byte) 0xFF};
    InspectorSettings settings = SETTINGS.get(0);
    int compared = 0;
    int refused = 0;
    exact = 0;
    for (String text : corpus()) {
      byte[] body = text.getBytes(UTF_8);
      for (int cut = 0; cut < body.length; cut += 1 + body.length / 300) {
        refused += assertAlike(settings, java.util.Arrays.copyOf(body, cut), false).readable() ? 0 : 1;
        compared++;
      }
      for (int i = 0; i < 300; i++) {
        byte[] copy = body.clone();
        int at = random.nextInt(copy.length);
        int pick = random.nextInt(replacements.length + extra.length);
        copy[at] = pick < replacements.length ? replacements[pick] : extra[pick - replacements.length];
        refused += assertAlike(settings, copy, false).readable() ? 0 : 1;
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(5_000);
    System.out.printf("corrupted copies: %d compared, %d refused, %d read and compared in full with HAPI's model%n",
        compared, refused, exact);
    assertThat(refused).as("refusals among %d corrupted copies", compared).isBetween(1, compared - 1);
  }

  static Expectation assertAlike(InspectorSettings settings, byte[] body, boolean ndjson) {
    Expectation expected = new HapiModelOracle(R4, settings).expect(body, ndjson);
    Inspection actual = new ResponseInspector(R4, COMPARTMENT, settings)
        .inspect(new ResponseBody(body, ndjson ? "application/fhir+ndjson" : "application/fhir+json", null));
    String what = new String(body, UTF_8);
    if (!expected.readable()) {
      assertThat(actual).as("refusal of %s", what).isInstanceOf(Inspection.Unreadable.class);
      return expected;
    }
    assertThat(actual).as("read of %s", what).isInstanceOf(Inspection.Read.class);
    Inspection.Read read = (Inspection.Read) actual;
    List<UrlOccurrence> urls = new ArrayList<>(read.urls());
    for (int i = 0; i < urls.size(); i++) { // what the link rewriting reads without making the occurrences
      assertThat(read.urlStart(i)).as("start of URL %d of %s", i, what).isEqualTo(urls.get(i).start());
      assertThat(read.urlIsBundleLink(i)).as("URL %d of %s is a link", i, what).isEqualTo(urls.get(i).isBundleLink());
    }
    urls.sort(Comparator.comparingInt(UrlOccurrence::start));
    assertThat(urls).as("URLs of %s", what).isEqualTo(expected.urls());
    Set<String> identified = read.patients().stream().filter(PatientKeys::isIdentified).collect(Collectors.toSet());
    if (expected.modelled()) {
      exact++;
      assertThat(new TreeSet<>(identified)).as("patients of %s", what).isEqualTo(new TreeSet<>(expected.identified()));
      assertThat(count(read, PatientKeys.UNIDENTIFIED_PREFIX)).as("unidentified patients of %s", what)
          .isEqualTo(expected.unidentified().size());
      assertThat(count(read, PatientKeys.UNRESOLVED_PREFIX)).as("unresolved references of %s: %s", what, expected.unresolved())
          .isEqualTo(expected.unresolved().size());
      assertThat(new TreeSet<>(read.resourceTypes())).as("types of %s", what).isEqualTo(new TreeSet<>(expected.types()));
      assertThat(read.resourceCount()).as("resources of %s", what).isEqualTo(expected.resourceCount());
    } else {
      assertThat(identified).as("patients of %s (HAPI's model is partial)", what).containsAll(expected.identified());
    }
    return expected;
  }

  static long count(Inspection.Read read, String prefix) {
    return read.patients().stream().filter(k -> k.startsWith(prefix)).count();
  }

  /** The first bodies of {@link #corpus()}: written by HAPI FHIR. */
  static final int HAPI_WRITTEN = 3;

  static List<String> corpus() {
    List<String> bodies = new ArrayList<>();
    List<Resource> matches = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String p = "p" + (i / 4);
      matches.add(switch (i % 4) {
        case 0 -> Fixtures.observation("o" + i, p);
        case 1 -> Fixtures.encounter("e" + i, p);
        case 2 -> Fixtures.medicationRequest("m" + i, p);
        default -> Fixtures.condition("c" + i, p);
      });
    }
    bodies.add(Fixtures.json(Fixtures.searchset(matches,
        List.of(Fixtures.patient("p0"), Fixtures.patient("p1"), Fixtures.practitioner("pr1"), Fixtures.organization("chu")))));
    bodies.add(Fixtures.json(Fixtures.patient("42")));
    bodies.add(Fixtures.json(Fixtures.searchset(List.of(Fixtures.practitioner("a"), Fixtures.organization("b")), List.of())));
    String inner = "{\"resourceType\":\"Patient\",\"id\":\"inner\"}";
    String b64 = Base64.getEncoder().encodeToString(inner.getBytes(UTF_8));
    bodies.add("""
        {"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"%1$s/Observation?x=1"},
          {"url":"%1$s/Observation?page=2"},{"url":"http://elsewhere/x","relation":"next"},{"url":"http://elsewhere/y"}],
         "entry":[
          {"fullUrl":"%1$s/Patient/7","resource":{"resourceType":"Patient","id":"7","link":[{"other":{"reference":"Patient/8"}}]}},
          {"fullUrl":"urn:uuid:1111","resource":{"resourceType":"Patient","name":[{"family":"X"}]}},
          {"fullUrl":"urn:uuid:2222","resource":{"resourceType":"Practitioner","id":"pp"}},
          {"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"k"},
            "subject":{"reference":"urn:uuid:1111"},"performer":[{"reference":"urn:uuid:2222"},{"reference":"urn:uuid:3333"}],
            "note":[{"text":"%1$s/Patient/9 and http:\\/\\/epr.example:8080\\/fhir\\/Patient\\/10"}]}},
          {"resource":{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"k"},
           "subject":{"reference":"Patient/1"},"performer":[{"display":"Mrs Martin (mother)"}]}},
          {"resource":{"resourceType":"Observation","id":"o3","status":"final","code":{"text":"k"},
           "subject":{"reference":"Group/5"},"performer":[{"reference":"Practitioner/1"},{"type":"Device","display":"pump"}]}},
          {"resource":{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},
           "subject":{"type":"Patient","display":"Claire Martin"}}},
          {"resource":{"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},
           "subject":{"reference":"Patient/2"},"participant":[{"individual":{"display":"Dr X"}}]}},
          {"resource":{"resourceType":"Observation","id":"o4","subject":{"reference":"Patient?identifier=x|1"}}},
          {"resource":{"resourceType":"Observation","id":"o5","subject":{"reference":"%1$s/Patient/33/_history/2"}}},
          {"resource":{"resourceType":"Observation","id":"o6","subject":{"reference":"patient/3\\u0034"}}},
          {"resource":{"resourceType":"Observation","id":"o7","subject":{"reference":"Patient/bad id"}}},
          {"resource":{"resourceType":"Observation","id":"o8","subject":{"reference":"Patient/$everything"}}},
          {"resource":{"resourceType":"Observation","id":"o9","subject":{"reference":"Observation/1"},"focus":[{"reference":"x"}]}},
          {"resource":{"resourceType":"Observation","id":"o10","subject":{"identifier":{"system":"s","value":"111"}}}},
          {"resource":{"id":"late","status":"final","resourceType":"Observation","subject":{"reference":"Patient/late"}}},
          {"resource":{"resourceType":"Patient","id":"a","id":"b"}},
          {"response":{"status":"201","location":"Patient/55/_history/1"}},
          {"request":{"method":"GET","url":"Patient/56"},"response":{"status":"200","location":"%1$s/Observation/1"}},
          {"resource":{"resourceType":"Binary","id":"bin1","contentType":"application/pdf","data":"JVBERi0="}},
          {"resource":{"resourceType":"Binary","contentType":"application/pdf","data":"JVBERi0=","securityContext":{"reference":"Patient/sc"}}},
          {"resource":{"resourceType":"Binary","contentType":"application/fhir+json","data":"%2$s"}},
          {"resource":{"resourceType":"DocumentReference","id":"d1","subject":{"reference":"Patient/d"},
            "content":[{"attachment":{"contentType":"application/json","data":"%2$s"}}]}},
          {"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"nested"}}]}},
          {"resource":{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","id":"par"}},
            {"name":"q","valueReference":{"reference":"Patient/pv"}},{"name":"n","valueInteger":3,"valueBoolean":true,"valueDecimal":1.5e3}]}}
         ]}""".formatted(BASE, b64));
    bodies.add("""
        {"resourceType":"DiagnosticReport","id":"dr1","status":"final","code":{"text":"panel"},
         "contained":[
           {"resourceType":"Observation","id":"obs1","status":"final","code":{"text":"k"},"subject":{"reference":"Patient/9"}},
           {"resourceType":"Practitioner","id":"pr","name":[{"family":"Durand"}]},
           {"resourceType":"Patient","name":[{"family":"Contained"}]}],
         "subject":{"reference":"#gone"},
         "performer":[{"reference":"#pr"},{"reference":"#"}],
         "result":[{"reference":"#obs1"}]}""");
    bodies.add("""
        {"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},
         "subject":{"reference":"#p1"},"contained":[{"resourceType":"Patient","id":"p1"}],"requester":{"reference":"#zz"}}""");
    bodies.add("""
        {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing",
         "diagnostics":"%s/Patient/1 failed","details":{"text":"é ü \\" \\\\ ☃ 𝄞"}}], "extra":[null,true,false,1,-2.5,"%s"]}"""
        .formatted(BASE, BASE));
    bodies.add("{\"resourceType\":\"Group\",\"id\":\"g\",\"member\":[{\"entity\":{\"reference\":\"Patient/1\"}},"
        + "{\"entity\":{\"reference\":\"Patient/2\"}},{\"entity\":{\"display\":\"someone\"}}]}");
    bodies.add("{\"resourceType\":\"Patient\",\"id\":\"x\"} {\"resourceType\":\"Patient\",\"id\":\"y\"}");
    bodies.add("{\"resourceType\":\"NotAType\"}");
    bodies.add("{\"resourceType\":1}");
    bodies.add("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":7}}");
    bodies.add("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":null}}");
    bodies.add("{\"resourceType\":\"Patient\",\"resourceType\":\"Observation\"}");
    bodies.add("{\"id\":\"no-type\"}");
    bodies.add("[1,2]");
    bodies.add("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/1\"},\"x\":[[[[{\"a\":[\"%s/q\"]}]]]]}"
        .formatted(BASE));
    return bodies;
  }
}
