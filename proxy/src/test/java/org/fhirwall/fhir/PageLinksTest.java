package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fhirwall.fhir.Requests.get;
import static org.fhirwall.fhir.Requests.parsed;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageLinksTest {
  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  static final Duration TTL = Duration.ofMinutes(10);
  static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");
  static final String TARGET = "?_getpages=5f2c7a&_getpagesoffset=20&_count=20&_bundletype=searchset";

  final PageLinks links = new PageLinks(SECRET, TTL);

  static FhirRequest pageRequest(String token) {
    return parsed(get("/fhir?_fwpage=" + token));
  }

  private PageLinks.PageOpen open(String token, String binding, Instant at) {
    return links.open(pageRequest(token), binding, at);
  }

  private static Refusal refusal(PageLinks.PageOpen open) {
    assertThat(open).isInstanceOf(PageLinks.PageOpen.Invalid.class);
    return ((PageLinks.PageOpen.Invalid) open).refusal();
  }

  private static void assertForbidden(PageLinks.PageOpen open) {
    Refusal r = refusal(open);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.code()).isEqualTo(IssueType.FORBIDDEN);
    assertThat(r.diagnostics()).isEqualTo("paging link not valid for this session");
  }

  @Test
  void wrappedLinkOpensForTheSameBinding() {
    String token = links.wrap(TARGET, "Observation", 2, "alice|session-1", NOW);
    assertThat(token).matches("[A-Za-z0-9_-]+");
    assertThat(token).doesNotContain("getpages").doesNotContain("Observation");

    PageLinks.PageOpen open = open(token, "alice|session-1", NOW.plusSeconds(60));
    assertThat(open).isInstanceOf(PageLinks.PageOpen.Opened.class);
    PageLinks.PageLink link = ((PageLinks.PageOpen.Opened) open).link();
    assertThat(link.upstreamTarget()).isEqualTo(TARGET);
    assertThat(link.pageNumber()).isEqualTo(2);
    assertThat(link.searchedType()).isEqualTo("Observation");
    assertThat(link.request().interaction()).isEqualTo(Interaction.PAGE);
    assertThat(link.request().resourceType()).isEqualTo("Observation");
    assertThat(link.request().pageToken()).isEqualTo(token);
  }

  @Test
  void systemSearchLinkHasNoType() {
    String token = links.wrap("?_getpages=x", null, 7, "bob", NOW);
    PageLinks.PageLink link = ((PageLinks.PageOpen.Opened) open(token, "bob", NOW)).link();
    assertThat(link.searchedType()).isNull();
    assertThat(link.request().resourceType()).isNull();
    assertThat(link.pageNumber()).isEqualTo(7);
  }

  @Test
  void unicodeTargetSurvives() {
    String target = "Patient?name=M%C3%BCller&note=é€";
    String token = links.wrap(target, "Patient", 3, "bob", NOW);
    assertThat(((PageLinks.PageOpen.Opened) open(token, "bob", NOW)).link().upstreamTarget()).isEqualTo(target);
  }

  @Test
  void tokensAreFreshEachTime() {
    assertThat(links.wrap(TARGET, "Patient", 2, "alice", NOW)).isNotEqualTo(links.wrap(TARGET, "Patient", 2, "alice", NOW));
  }

  @Test
  void anotherBindingIsRefused() {
    String token = links.wrap(TARGET, "Patient", 2, "alice|session-1", NOW);
    assertForbidden(open(token, "alice|session-2", NOW));
    assertForbidden(open(token, "mallory|session-1", NOW));
    assertForbidden(open(token, "", NOW));
  }

  @Test
  void expiredLinkIsGone() {
    String token = links.wrap(TARGET, "Patient", 2, "alice", NOW);
    assertThat(open(token, "alice", NOW.plus(TTL).minusMillis(1))).isInstanceOf(PageLinks.PageOpen.Opened.class);
    Refusal r = refusal(open(token, "alice", NOW.plus(TTL)));
    assertThat(r.status()).isEqualTo(410);
    assertThat(r.code()).isEqualTo(IssueType.EXPIRED);
    // another binding is not told the link merely expired
    assertForbidden(open(token, "mallory", NOW.plus(TTL)));
  }

  @Test
  void everyTamperedByteIsRefused() {
    String token = links.wrap(TARGET, "Patient", 2, "alice", NOW);
    byte[] raw = Base64.getUrlDecoder().decode(token);
    for (int i = 0; i < raw.length; i++) {
      for (int bit : new int[] {0x01, 0x80}) {
        byte[] copy = raw.clone();
        copy[i] ^= (byte) bit;
        String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(copy);
        assertForbidden(open(tampered, "alice", NOW));
      }
    }
  }

  @Test
  void truncatedAndExtendedTokensAreRefused() {
    String token = links.wrap(TARGET, "Patient", 2, "alice", NOW);
    byte[] raw = Base64.getUrlDecoder().decode(token);
    for (int len = 0; len < raw.length; len += 3) {
      byte[] cut = java.util.Arrays.copyOf(raw, len);
      String t = Base64.getUrlEncoder().withoutPadding().encodeToString(cut);
      if (!t.isEmpty()) {
        assertForbidden(open(t, "alice", NOW));
      }
    }
    byte[] longer = java.util.Arrays.copyOf(raw, raw.length + 1);
    assertForbidden(open(Base64.getUrlEncoder().withoutPadding().encodeToString(longer), "alice", NOW));
  }

  @Test
  void anotherSecretCannotOpen() {
    PageLinks other = new PageLinks("another-secret-of-32-bytes......".getBytes(StandardCharsets.US_ASCII), TTL);
    String token = other.wrap(TARGET, "Patient", 2, "alice", NOW);
    assertForbidden(open(token, "alice", NOW));
    PageLinks replica = new PageLinks(SECRET.clone(), TTL);
    assertThat(replica.open(pageRequest(links.wrap(TARGET, "Patient", 2, "alice", NOW)), "alice", NOW))
        .isInstanceOf(PageLinks.PageOpen.Opened.class);
  }

  @Test
  void garbageNeverThrows() {
    List<String> junk = List.of("A", "AA", "AAAA", "abc", "-_-_", "AQ", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "A".repeat(4000), "_".repeat(100));
    for (String t : junk) {
      assertForbidden(open(t, "alice", NOW));
    }
    FhirRequest hand = pageRequest("x");
    FhirRequest withJunk = new FhirRequest(Interaction.PAGE, "GET", null, null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, "not base64 !!! \u0000 €", List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertForbidden(links.open(withJunk, "alice", NOW));
    FhirRequest huge = new FhirRequest(Interaction.PAGE, "GET", null, null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, "A".repeat(1_000_000), List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertForbidden(links.open(huge, "alice", NOW));
    FhirRequest empty = new FhirRequest(Interaction.PAGE, "GET", null, null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, "", List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertForbidden(links.open(empty, "alice", NOW));
    FhirRequest noToken = new FhirRequest(Interaction.PAGE, "GET", null, null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertForbidden(links.open(noToken, "alice", NOW));
    assertForbidden(links.open(hand, "alice", NOW));
  }

  @Test
  void aNonPageRequestIsNotOpened() {
    String token = links.wrap(TARGET, "Patient", 2, "alice", NOW);
    FhirRequest read = parsed(get("/fhir/Patient/1"));
    FhirRequest disguised = new FhirRequest(Interaction.READ, "GET", "Patient", "1", null, null, null, false, List.of(),
        List.of(), Format.JSON, false, false, token, List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertForbidden(links.open(read, "alice", NOW));
    assertForbidden(links.open(disguised, "alice", NOW));
  }

  @Test
  void wrapRejectsBadInput() {
    assertThatThrownBy(() -> links.wrap("/Patient?x", "Patient", 2, "a", NOW)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> links.wrap("http://epr/fhir?x", "Patient", 2, "a", NOW)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> links.wrap("?x", "Patient", 0, "a", NOW)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> links.wrap("?" + "x".repeat(3000), "Patient", 2, "a", NOW)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PageLinks(new byte[8], TTL)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PageLinks(SECRET, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void longestTargetFitsTheParserTokenLimit() {
    String token = links.wrap("?" + "x".repeat(2047), "MedicationRequest", Integer.MAX_VALUE, "alice", NOW);
    assertThat(token.length()).isLessThanOrEqualTo(ParserSettings.defaults("").maxPageTokenLength());
    assertThat(open(token, "alice", NOW)).isInstanceOf(PageLinks.PageOpen.Opened.class);
  }

  @Test
  void aTokensLengthDependsOnlyOnItsTargetsBucket() {
    int shortOne = links.wrap("?_getpages=a", "Patient", 2, "alice", NOW).length();
    assertThat(links.wrap("?" + "x".repeat(511), "Patient", 2, "alice", NOW)).hasSize(shortOne);
    assertThat(links.wrap("?" + "x".repeat(512), "Patient", 2, "alice", NOW).length()).isGreaterThan(shortOne);
    assertThat(links.wrap("?" + "x".repeat(700), "Patient", 2, "alice", NOW))
        .hasSameSizeAs(links.wrap("?" + "x".repeat(1023), "Patient", 2, "alice", NOW));
    assertThat(links.wrap("?_getpages=a", "Patient", 2, 20, 900, "alice", NOW))
        .as("padded to the bucket of a longer link of the same answer")
        .hasSameSizeAs(links.wrap("?" + "x".repeat(1000), "Patient", 2, 20, 0, "alice", NOW));
  }

  @Test
  void anEndTokenIsAsLongAsARealOneAndOpensAsTheEnd() {
    String real = links.wrap(TARGET, "Patient", 2, 20, 100, "alice", NOW);
    String end = links.wrapEnd("", "Patient", 2, 20, 100, "alice", NOW);
    assertThat(end).hasSameSizeAs(real);
    PageLinks.PageLink opened = ((PageLinks.PageOpen.Opened) open(end, "alice", NOW)).link();
    assertThat(opened.end()).isTrue();
    assertThat(opened.pageSize()).isEqualTo(20);
    assertThat(opened.upstreamTarget()).isEmpty();
    PageLinks.PageLink genuine = ((PageLinks.PageOpen.Opened) open(real, "alice", NOW)).link();
    assertThat(genuine.end()).isFalse();
    assertThat(genuine.pageSize()).isEqualTo(20);
    assertThat(genuine.upstreamTarget()).isEqualTo(TARGET);
    assertForbidden(open(end, "bob", NOW));
  }
}
