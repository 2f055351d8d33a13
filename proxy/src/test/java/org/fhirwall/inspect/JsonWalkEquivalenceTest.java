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
import org.junit.jupiter.api.Test;

/**
 * The JSON walk answers exactly as {@link JsonWalkBaseline} (the walk before its performance work)
 * on a corpus of bodies and on many corrupted copies of them: same patients, URL occurrences,
 * resource types and count, or the same reason to refuse.
 */
class JsonWalkEquivalenceTest {
  static final PatientCompartment COMPARTMENT = PatientCompartment.from(R4);

  static final List<WalkModel> MODELS = List.of(
      model(List.of(BASE + "/")),
      model(List.of(BASE, "https://other.example/fhir/")),
      model(List.of()),
      model(List.of("http://épr.example/fhir")));

  static WalkModel model(List<String> bases) {
    return new WalkModel(R4.getResourceTypes(), COMPARTMENT, new InspectorSettings(bases, 10_000_000, 100));
  }

  @Test
  void theCorpusIsReadAlike() {
    for (WalkModel model : MODELS) {
      for (String body : corpus()) {
        assertSame(model, body.getBytes(UTF_8), false);
      }
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
    for (WalkModel model : MODELS) {
      assertSame(model, nd.toString().getBytes(UTF_8), true);
    }
  }

  @Test
  void corruptedCopiesAreReadOrRefusedAlike() {
    Random random = new Random(42);
    byte[] replacements = "{}[]\",:\\/#?a0 -nt\u00e9".getBytes(UTF_8);
    byte[] extra = {(byte) 0x80, (byte) 0xC3, 0x01, (byte) 0xFF};
    WalkModel model = MODELS.get(0);
    for (String text : corpus()) {
      byte[] body = text.getBytes(UTF_8);
      for (int cut = 0; cut < body.length; cut += 1 + body.length / 300) {
        byte[] truncated = java.util.Arrays.copyOf(body, cut);
        assertSame(model, truncated, false);
      }
      for (int i = 0; i < 300; i++) {
        byte[] copy = body.clone();
        int at = random.nextInt(copy.length);
        int pick = random.nextInt(replacements.length + extra.length);
        copy[at] = pick < replacements.length ? replacements[pick] : extra[pick - replacements.length];
        assertSame(model, copy, false);
      }
    }
  }

  static void assertSame(WalkModel model, byte[] body, boolean ndjson) {
    String expected = outcome(() -> new JsonWalkBaseline(body, model, ndjson, embedded(model, true), 0).run());
    String actual = outcome(() -> new JsonWalk(body, model, ndjson, embedded(model, false), 0).run());
    assertThat(actual).as("walk of %s", new String(body, UTF_8)).isEqualTo(expected);
  }

  static JsonWalk.EmbeddedReader embedded(WalkModel model, boolean baseline) {
    return (content, contentType, nesting) -> {
      if (!contentType.contains("json")) {
        return new Inspection.Unreadable("not JSON");
      }
      try {
        return baseline
            ? new JsonWalkBaseline(content, model, false, embedded(model, true), nesting).run()
            : new JsonWalk(content, model, false, embedded(model, false), nesting).run();
      } catch (UnreadableException e) {
        return new Inspection.Unreadable(e.reason());
      }
    };
  }

  interface Walk {
    Inspection.Read run() throws UnreadableException;
  }

  static String outcome(Walk walk) {
    try {
      Inspection.Read read = walk.run();
      return "read patients=" + new TreeSet<>(read.patients()) + " urls=" + read.urls()
          + " types=" + new TreeSet<>(read.resourceTypes()) + " count=" + read.resourceCount();
    } catch (UnreadableException e) {
      return "unreadable " + e.reason();
    } catch (RuntimeException e) {
      return "exception " + e.getClass().getName();
    }
  }

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
