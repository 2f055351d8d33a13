package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.policy.Mode;
import org.fhirwall.policy.RolePolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {
  @TempDir
  Path dir;

  final RolePolicyLoader loader = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes());
  final List<ReloadOutcome> outcomes = new ArrayList<>();

  private PolicyReloader reloader(boolean allowWeakening) throws Exception {
    Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN);
    return new PolicyReloader(dir, loader, allowWeakening, 0, outcomes::add);
  }

  private RolePolicy inForce(PolicyReloader reloader) {
    return reloader.get().policies().roles().get(0);
  }

  private void change(String from, String to) throws Exception {
    String now = Files.readString(dir.resolve("physician.yaml"));
    assertThat(now).contains(from);
    Files.writeString(dir.resolve("physician.yaml"), now.replace(from, to));
  }

  @Test
  void aValidChangeReplacesThePoliciesAndAnInvalidOneNeverDoes() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      assertThat(inForce(reloader).search().maxCount()).isEqualTo(50);
      assertThat(reloader.check()).isFalse();
      assertThat(outcomes).isEmpty();

      change("max-count: 50", "max-count: 20");
      assertThat(reloader.check()).isTrue();
      assertThat(inForce(reloader).search().maxCount()).isEqualTo(20);
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Applied.class, a -> {
        assertThat(a.changed()).containsExactly("physician");
        assertThat(a.added()).isEmpty();
        assertThat(a.weakenings()).isEmpty();
      });

      change("max-count: 20", "max-count: -1");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).search().maxCount()).isEqualTo(20);
      assertThat(outcomes.get(1)).isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.problems()).extracting(ConfigProblem::key).containsExactly("search.max-count"));
    }
  }

  @Test
  void anAppendedDuplicateKeyIsRefusedOnReload() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN + "mode: report-only\nmode: enforce\n");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).mode()).isEqualTo(Mode.ENFORCE);
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.problems()).singleElement().asString().contains("physician.yaml:30:1: mode: written twice"));
    }
  }

  @Test
  void switchingAnEnforcingRoleToReportOnlyIsRefusedAndTold() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      change("priority: 100", "priority: 100\nmode: report-only");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).mode()).isEqualTo(Mode.ENFORCE);
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r -> {
        assertThat(r.weakenings()).containsExactly(new Weakening("physician", dir.resolve("physician.yaml").toString(), "mode",
            "enforce", "report-only"));
        assertThat(r.problems()).singleElement().asString().isEqualTo(dir.resolve("physician.yaml") + ":6:7: mode: report-only "
            + "(was enforce; expected: no weaker than the policy in force, or policy-reload.allow-weakening: true in the deployment file)");
      });
    }
  }

  @Test
  void switchingAnEnforcedUnexplainedBudgetToReportOnlyIsAWeakening() throws Exception {
    Files.writeString(dir.resolve("physician.yaml"),
        RolePolicyLoaderTest.PHYSICIAN.replace("at-limit:", "unexplained-limits:\n  - {window: 24h, max: 10}\nat-limit:"));
    try (PolicyReloader reloader = new PolicyReloader(dir, loader, false, 0, outcomes::add)) {
      change("unexplained-limits:", "unexplained-mode: report-only\nunexplained-limits:");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).enforcesUnexplained()).isTrue();
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.weakenings()).containsExactly(new Weakening("physician", dir.resolve("physician.yaml").toString(),
              "unexplained-mode", "enforce", "report-only")));
    }
  }

  @Test
  void loweringTheAuthenticationIsRefusedWhereverItIsWritten() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      change("  amr: [otp]\n  max-age: 12h\n", "  amr-any-of: [otp, swk]\n");
      change("    max-age: 15m", "    max-age: 1h");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).authentication().requiredAmr()).containsExactly("otp");
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.weakenings()).extracting(Weakening::toString).containsExactly(
              "physician: authentication.amr: [otp] -> []",
              "physician: authentication.max-age: 12h -> none",
              "physician: break-glass.authentication.max-age: 15m -> 1h"));
    }
  }

  @Test
  void droppingOrLooseningTheSenderConstraintIsAWeakening() throws Exception {
    Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN.replace("amr: [otp]",
        "amr: [otp]\n  sender-constrained: dpop"));
    try (PolicyReloader reloader = new PolicyReloader(dir, loader, false, 0, outcomes::add)) {
      change("  sender-constrained: dpop\n", "  sender-constrained: any\n");
      assertThat(reloader.check()).isFalse();
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.weakenings()).extracting(Weakening::toString).containsExactly(
              "physician: authentication.sender-constrained: dpop -> any"));
      outcomes.clear();
      change("  sender-constrained: any\n", "");
      assertThat(reloader.check()).isFalse();
      assertThat(inForce(reloader).authentication().senderConstrained()).isEqualTo(org.fhirwall.auth.SenderConstraint.DPOP);
    }
  }

  @Test
  void anAcceptedAcrOrAmrThatWasNotAcceptedBeforeIsAWeakening() throws Exception {
    Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN.replace("amr: [otp]", "amr-any-of: [hwk]\n  acr: [mfa]"));
    try (PolicyReloader reloader = new PolicyReloader(dir, loader, false, 0, outcomes::add)) {
      change("amr-any-of: [hwk]\n  acr: [mfa]", "amr-any-of: [hwk, otp]\n  acr: [mfa, loa3]");
      assertThat(reloader.check()).isFalse();
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Refused.class, r ->
          assertThat(r.weakenings()).extracting(Weakening::toString).containsExactly(
              "physician: authentication.acr: [mfa] -> [loa3, mfa]",
              "physician: authentication.amr-any-of: [hwk] -> [hwk, otp]"));
      change("amr-any-of: [hwk, otp]\n  acr: [mfa, loa3]", "amr: [hwk]\n  acr: [mfa]");
      assertThat(reloader.check()).as("moving hwk from amr-any-of to amr asks for as much").isTrue();
    }
  }

  @Test
  void aStrongerRoleIsAppliedAndSoIsAWeakerOneWhenTheDeploymentAllowsIt() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      change("max-age: 12h", "max-age: 8h");
      assertThat(reloader.check()).isTrue();
    }
    outcomes.clear();
    try (PolicyReloader reloader = reloader(true)) {
      change("priority: 100", "priority: 100\nmode: report-only");
      assertThat(reloader.check()).isTrue();
      assertThat(inForce(reloader).mode()).isEqualTo(Mode.REPORT_ONLY);
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Applied.class, a ->
          assertThat(a.weakenings()).extracting(Weakening::key).containsExactly("mode"));
    }
  }

  @Test
  void removingARoleOrAddingOneIsNoWeakening() throws Exception {
    try (PolicyReloader reloader = reloader(false)) {
      Files.writeString(dir.resolve("nurse.yaml"), RolePolicyLoaderTest.PHYSICIAN.replace("role: physician", "role: nurse")
          .replace("roles: [physician, doctor]", "roles: [nurse]"));
      Files.delete(dir.resolve("physician.yaml"));
      assertThat(reloader.check()).isTrue();
      assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReloadOutcome.Applied.class, a -> {
        assertThat(a.added()).containsExactly("nurse");
        assertThat(a.removed()).containsExactly("physician");
      });
    }
  }
}
