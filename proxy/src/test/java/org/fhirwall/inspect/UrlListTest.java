package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The URLs a walk finds are kept as ranges of the body ({@link UrlList}) and made into
 * {@link UrlOccurrence}s when read: each reads exactly as the occurrence made at once from the same
 * token would (escaped and non-ASCII values and relations included), and the list is as immutable
 * as {@code List.of}.
 */
class UrlListTest {
  final ResponseInspector inspector = new ResponseInspector(R4, ScratchReuseTest.COMPARTMENT, ScratchReuseTest.SETTINGS);

  /** A Bundle with links (plain, escaped and non-ASCII relations and urls, one without relation) and entry URLs. */
  static final String BODY = """
      {"resourceType":"Bundle","type":"searchset",
       "link":[{"relation":"self","url":"%1$s/Patient?name=a"},
               {"relation":"n\\u0065xt","url":"%1$s\\/Patient?page=2"},
               {"relation":"pr\u00e9vious","url":"%1$s/Patient?name=\u00e9"},
               {"url":"%1$s/Patient?none"},
               {"url":"http://elsewhere.example/x"}],
       "entry":[{"fullUrl":"%1$s/Patient/p1","resource":{"resourceType":"Patient","id":"p1",
                 "link":[{"other":{"reference":"%1$s/Patient/p2"}}]}},
                {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Basic","id":"b1"},
                 "response":{"status":"201","location":"%1$s/Basic/b1/_history/1"}},
                {"fullUrl":"%1$s/Patient/p\\u0033","resource":{"resourceType":"Patient","id":"p3"}}]}
      """.formatted(BASE);

  @Test
  void eachOccurrenceReadsAsTheTokenItStandsFor() {
    byte[] json = BODY.getBytes(UTF_8);
    Inspection.Read read = (Inspection.Read) inspector.inspect(new ResponseBody(json, "application/fhir+json", null));
    List<String> seen = new ArrayList<>();
    for (UrlOccurrence u : read.urls()) {
      // The occurrence made eagerly from its token: the token's bytes decoded by HAPI's JSON parser's rules.
      String token = new String(json, u.start(), u.end() - u.start(), UTF_8);
      assertThat(u.value()).isEqualTo(unquote(token));
      seen.add(u.value() + " " + u.linkRelation());
    }
    assertThat(seen).containsExactly(
        BASE + "/Patient?name=a self",
        BASE + "/Patient?page=2 next",
        BASE + "/Patient?name=\u00e9 pr\u00e9vious",
        BASE + "/Patient?none null",
        BASE + "/Patient/p1 null",
        BASE + "/Patient/p2 null",
        "urn:uuid:1 null",
        BASE + "/Basic/b1/_history/1 null",
        BASE + "/Patient/p3 null");
    assertThat(read.hasNextPage()).isTrue();
    for (int i = 0; i < read.urls().size(); i++) { // read without making the occurrence
      assertThat(read.urlStart(i)).isEqualTo(read.urls().get(i).start());
      assertThat(read.urlIsBundleLink(i)).isEqualTo(read.urls().get(i).isBundleLink());
    }
    assertThatThrownBy(() -> read.urlStart(read.urls().size())).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> read.urlIsBundleLink(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(read.urls()).isEqualTo(List.copyOf(read.urls())).hasSameHashCodeAs(List.copyOf(read.urls()));
    assertThat(read.urls().get(0)).isEqualTo(read.urls().get(0));
  }

  @Test
  void theListIsImmutableAndKeptAsItIsByTheRead() {
    Inspection.Read read = (Inspection.Read) inspector.inspect(new ResponseBody(BODY.getBytes(UTF_8), "application/fhir+json", null));
    List<UrlOccurrence> urls = read.urls();
    assertThat(urls).isInstanceOf(UrlList.class);
    assertThatThrownBy(() -> urls.add(urls.get(0))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> urls.set(0, urls.get(1))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> urls.remove(0)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> urls.get(urls.size())).isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(read.withPatients(Set.of("Patient/other")).urls()).isSameAs(urls);
    // A list from elsewhere is still copied.
    List<UrlOccurrence> mutable = new ArrayList<>(urls);
    Inspection.Read other = new Inspection.Read(read.json(), read.patients(), mutable, read.resourceTypes(), 1, "Bundle");
    mutable.clear();
    assertThat(other.urls()).isEqualTo(urls);
  }

  @Test
  void nextPageIsFoundAlikeInAWalksListAndInAnyOther() {
    for (String relation : new String[] {"next", "self", "n\\u0065xt", "nex", "nextt"}) {
      String body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"" + relation
          + "\",\"url\":\"" + BASE + "/Patient\"}]}";
      Inspection.Read read = (Inspection.Read) inspector.inspect(new ResponseBody(body.getBytes(UTF_8), "application/fhir+json", null));
      Inspection.Read copied = new Inspection.Read(read.json(), read.patients(), new ArrayList<>(read.urls()),
          read.resourceTypes(), read.resourceCount(), read.rootType());
      assertThat(read.hasNextPage()).as(relation).isEqualTo(copied.hasNextPage())
          .isEqualTo(relation.equals("next") || relation.equals("n\\u0065xt"));
    }
    Inspection.Read none = (Inspection.Read) inspector.inspect(
        new ResponseBody("{\"resourceType\":\"Basic\"}".getBytes(UTF_8), "application/fhir+json", null));
    assertThat(none.urls()).isEmpty();
    assertThat(none.hasNextPage()).isFalse();
  }

  private static String unquote(String token) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(token, String.class);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
