package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.fhirwall.inspect.ReferenceText.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReferenceTextTest {
  final ReferenceText text = new ReferenceText(Set.of("Patient", "Practitioner", "Observation", "Group", "Device"));

  private Kind classify(String reference) {
    byte[] padded = ("xx" + reference + "yy").getBytes(UTF_8);
    return text.classify(padded, 2, padded.length - 4);
  }

  private String idOf(String reference) {
    byte[] padded = ("xx" + reference + "yy").getBytes(UTF_8);
    assertThat(text.classify(padded, 2, padded.length - 4)).isEqualTo(Kind.PATIENT);
    return new String(padded, text.idStart, text.idEnd - text.idStart, UTF_8);
  }

  @ParameterizedTest
  @CsvSource({
      "Patient/1, 1",
      "Patient/1/_history/2, 1",
      "http://any.example/base/Patient/abc-1.2, abc-1.2",
      "https://epr/fhir/Patient/7/_history/3?x=y, 7",
      "patient/9, 9",
      "Patient/5#frag, 5"})
  void patientReferencesNameTheirId(String reference, String id) {
    assertThat(idOf(reference)).isEqualTo(id);
  }

  @ParameterizedTest
  @CsvSource({"Patient?identifier=urn:x|1", "Patient/a b", "Patient/$everything", "http://epr/fhir/Patient/_search"})
  void patientReferencesWithoutAReadableIdAreUnresolvedPatients(String reference) {
    assertThat(classify(reference)).isEqualTo(Kind.PATIENT_UNRESOLVED);
  }

  @ParameterizedTest
  @CsvSource({"Practitioner/1", "http://epr/fhir/Observation/o1/_history/2", "Group/5", "Device/d?x=1"})
  void otherTypedReferencesAreNotPatients(String reference) {
    assertThat(classify(reference)).isEqualTo(Kind.OTHER_TYPE);
  }

  @Test
  void containedUrnAndUntypedReferences() {
    assertThat(classify("#p1")).isEqualTo(Kind.CONTAINED);
    assertThat(classify("#")).isEqualTo(Kind.CONTAINED);
    assertThat(classify("urn:uuid:0f0e0d0c-0000-4000-8000-000000000001")).isEqualTo(Kind.URN);
    assertThat(classify("URN:oid:1.2.3")).isEqualTo(Kind.URN);
    assertThat(classify("123")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("Patient")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("Foo/1")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("http://epr/fhir/Patient")).isEqualTo(Kind.UNTYPED);
  }

  @Test
  void wordAtATimeClassificationAgreesWithAByteByByteOne() {
    // Delimiters are found eight bytes at a time: random references, delimiters at every place,
    // read as the plain byte-by-byte rules (below) read them.
    String[] parts = {"Patient", "patient", "PATIENT", "Observation", "Group", "Foo", "_history", "_search", "$everything",
        "/", "/", "/", "?", "#", "a", "p1", "12", "x.y-z", "é", "http:", "urn:", "a b", "_", "$"};
    Random random = new Random(11);
    for (int run = 0; run < 20_000; run++) {
      StringBuilder ref = new StringBuilder();
      for (int k = random.nextInt(9); k >= 0; k--) {
        ref.append(parts[random.nextInt(parts.length)]);
      }
      String before = "x".repeat(random.nextInt(9));
      byte[] buf = (before + ref + "\"yy").getBytes(UTF_8);
      int off = before.length();
      int len = buf.length - 3 - off;
      for (boolean typed : new boolean[] {true, false}) {
        String expected = bytewise(buf, off, len, typed);
        Kind kind = text.classify(buf, off, len, typed);
        assertThat(kind == Kind.PATIENT ? kind + " " + text.idStart + ".." + text.idEnd : kind.toString())
            .as("%s (typed: %s)", ref, typed).isEqualTo(expected);
      }
    }
  }

  @Test
  void fullUrlsReadPastAPlainBaseAsTheWholeWalkReadsThem() {
    // classifyUrl skips the bases whose own bytes cannot change the answer: the same kind and id
    // as classify(typed: false) over the whole URL, for URLs on plain bases, on bases it must not
    // skip, on a base's prefix, and on no base at all.
    String[] bases = {"http://epr.example/fhir", "http://epr.example/fhir/", "http://a", "https://x/patient-api",
        "http://h/PATIENT", "http://h/fhir/_history", "urn:x:y", "http://h/p?x=1", "http://h/p#f", "#x"};
    byte[][] plain = ReferenceText.plainBases(Arrays.stream(bases).map(b -> b.getBytes(UTF_8)).toArray(byte[][]::new));
    assertThat(Arrays.stream(plain).map(b -> new String(b, UTF_8)))
        .containsExactly("http://epr.example/fhir", "http://epr.example/fhir/", "http://a");
    String[] parts = {"Patient/", "patient/", "Patient", "Observation/", "p1", "12", "x.y-z", "_history/", "$everything",
        "/", "?", "#", "a", "é", "urn:", "a b", "_", "$", "atient", "Patient/p0"};
    String[] starts = {"http://epr.example/fhir", "http://epr.example/fhirx", "http://epr.example/fhi", "http://a",
        "https://x/patient-api", "http://h/fhir/_history", "urn:x:y", "http://h/p?x=1", "", "Patient/"};
    Random random = new Random(17);
    for (int run = 0; run < 20_000; run++) {
      StringBuilder url = new StringBuilder(starts[random.nextInt(starts.length)]);
      if (random.nextInt(4) != 0) {
        url.append('/');
      }
      for (int k = random.nextInt(5); k >= 0; k--) {
        url.append(parts[random.nextInt(parts.length)]);
      }
      String before = "x".repeat(random.nextInt(9));
      byte[] buf = (before + url + "\"yy").getBytes(UTF_8);
      int off = before.length();
      int len = buf.length - 3 - off;
      Kind expected = text.classify(buf, off, len, false);
      String expectedId = expected == Kind.PATIENT ? text.idStart + ".." + text.idEnd : "";
      Kind kind = text.classifyUrl(buf, off, len, plain);
      assertThat(kind == Kind.PATIENT ? kind + " " + text.idStart + ".." + text.idEnd : kind.toString())
          .as("%s", url).isEqualTo(expected == Kind.PATIENT ? expected + " " + expectedId : expected.toString());
    }
  }

  /** The rules of {@link ReferenceText#classify} spelled out byte by byte, as they were first written. */
  private static String bytewise(byte[] buf, int off, int len, boolean typed) {
    int end = off + len;
    String s0 = new String(buf, off, len, UTF_8);
    if (len == 0) {
      return "UNTYPED";
    }
    if (buf[off] == '#') {
      return "CONTAINED";
    }
    if (s0.length() >= 4 && s0.substring(0, 4).toLowerCase(Locale.ROOT).equals("urn:")) {
      return "URN";
    }
    int pathEnd = off;
    while (pathEnd < end && buf[pathEnd] != '?' && buf[pathEnd] != '#') {
      pathEnd++;
    }
    List<int[]> segments = new ArrayList<>();
    int segStart = off;
    for (int i = off; i <= pathEnd; i++) {
      if (i == pathEnd || buf[i] == '/') {
        if (i > segStart) {
          segments.add(new int[] {segStart, i});
        }
        segStart = i + 1;
      }
    }
    int[] before = null;
    int[] prev = null;
    int[] last = null;
    boolean history = false;
    for (int[] seg : segments) {
      String text = new String(buf, seg[0], seg[1] - seg[0], UTF_8);
      if (before != null && isPatient(buf, before) && !text.startsWith("_") && !text.startsWith("$")) {
        return ReferenceText.validId(buf, seg[0], seg[1]) ? "PATIENT " + seg[0] + ".." + seg[1] : "PATIENT_UNRESOLVED";
      }
      before = seg;
      history |= text.equals("_history");
      if (!history) {
        prev = last;
        last = seg;
      }
    }
    if (pathEnd < end && buf[pathEnd] == '?' && before != null && isPatient(buf, before)) {
      return "PATIENT_UNRESOLVED";
    }
    if (prev != null && isPatient(buf, prev)) {
      return "PATIENT_UNRESOLVED";
    }
    if (typed && prev != null && Set.of("Patient", "Practitioner", "Observation", "Group", "Device")
        .contains(new String(buf, prev[0], prev[1] - prev[0], UTF_8))) {
      return "OTHER_TYPE";
    }
    return "UNTYPED";
  }

  private static boolean isPatient(byte[] buf, int[] seg) {
    return new String(buf, seg[0], seg[1] - seg[0], UTF_8).toLowerCase(Locale.ROOT).equals("patient");
  }
}
