package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a paging link is bound to ({@link Principal#pagingBinding}). */
class PagingBindingTest {
  private static Principal clinician(Set<String> roles, Set<String> scopes) {
    return new Principal(Principal.Kind.USER, "https://idp", "u-1", "alice", "fhirwall-web", roles, "2", Set.of("pwd", "otp"),
        Instant.EPOCH, "s-1", scopes, null, Instant.EPOCH.plusSeconds(300), "t-1");
  }

  @Test
  void aLinkIssuedUnderAWiderRoleOrWiderScopesDoesNotOpenForTheSameSessionWithNarrowerOnes() {
    // Adversarial sweep: a link made under role 'wide' kept paging (with shapes the new role forbids) after the
    // same session's next token carried only 'physician'.
    String wide = clinician(Set.of("wide", "physician"), Set.of("openid", "user/*.rs")).pagingBinding();
    assertThat(clinician(Set.of("physician"), Set.of("openid", "user/*.rs")).pagingBinding()).isNotEqualTo(wide);
    assertThat(clinician(Set.of("wide", "physician"), Set.of("openid", "user/Observation.rs")).pagingBinding())
        .isNotEqualTo(wide);
  }

  @Test
  void theSameRolesAndScopesBindAlikeWhateverTheirOrder() {
    Set<String> ab = new LinkedHashSet<>(List.of("a", "b", "c"));
    Set<String> ba = new LinkedHashSet<>(List.of("c", "b", "a"));
    assertThat(clinician(ab, ba).pagingBinding()).isEqualTo(clinician(Set.copyOf(ba), Set.copyOf(ab)).pagingBinding())
        .isEqualTo(clinician(ba, ab).pagingBinding());
  }
}
