package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class ClaimPathTest {
  private static JsonNode json(String s) throws Exception {
    return IdpHttp.STRICT_JSON.readTree(s.replace('\'', '"'));
  }

  @Test
  void aDottedPathReachesNestedArrays() throws Exception {
    JsonNode claims = json("{'realm_access':{'roles':['a','b',3,null]}}");
    assertThat(ClaimPath.parse("realm_access.roles").strings(claims, "c")).containsExactly("a", "b");
  }

  @Test
  void theClientPlaceholderTakesTheTokensClient() throws Exception {
    JsonNode claims = json("{'resource_access':{'web':{'roles':['x']},'other':{'roles':['y']}}}");
    assertThat(ClaimPath.parse("resource_access.{client}.roles").strings(claims, "web")).containsExactly("x");
    assertThat(ClaimPath.parse("resource_access.<client>.roles").strings(claims, "other")).containsExactly("y");
    assertThat(ClaimPath.parse("resource_access.*.roles").strings(claims, "web")).containsExactlyInAnyOrder("x", "y");
  }

  @Test
  void anEscapedDotIsPartOfTheName() throws Exception {
    JsonNode claims = json("{'https://h.org/roles':'r','https://h':{'org/roles':'wrong'}}");
    assertThat(ClaimPath.parse("https://h\\.org/roles").strings(claims, "c")).containsExactly("r");
    assertThat(ClaimPath.parse("a\\\\b").toString()).isEqualTo("a\\\\b");
  }

  @Test
  void aSegmentWithAnEscapeIsNeverAPlaceholder() throws Exception {
    JsonNode claims = json("{'*':'star','x':'other','.*':'dot-star'}");
    assertThat(ClaimPath.parse("\\.*").strings(claims, "c")).containsExactly("dot-star");
    assertThat(ClaimPath.parse("*").strings(claims, "c")).containsExactlyInAnyOrder("star", "other", "dot-star");
  }

  @Test
  void pathsThatLeadNowhereYieldNothing() throws Exception {
    JsonNode claims = json("{'a':'text','b':{'c':{}}}");
    assertThat(ClaimPath.parse("a.b").strings(claims, "c")).isEmpty();
    assertThat(ClaimPath.parse("b.c").strings(claims, "c")).isEmpty();
    assertThat(ClaimPath.parse("missing").strings(claims, "c")).isEmpty();
  }

  @Test
  void malformedPathsAreRejectedWithTheirText() {
    assertThatThrownBy(() -> ClaimPath.parse("")).hasMessageContaining("non-empty segments");
    assertThatThrownBy(() -> ClaimPath.parse("a..b")).hasMessageContaining("'a..b'");
    assertThatThrownBy(() -> ClaimPath.parse("a.")).hasMessageContaining("non-empty");
    assertThatThrownBy(() -> ClaimPath.parse("a\\b")).hasMessageContaining("expected: '\\' only before");
  }
}
