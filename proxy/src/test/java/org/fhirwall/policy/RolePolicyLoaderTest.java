package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.Interaction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolePolicyLoaderTest {
  private final RolePolicyLoader loader = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes());

  static final String PHYSICIAN = """
      role: physician
      description: Hospital physicians
      applies-to:
        roles: [physician, doctor]
      priority: 100
      authentication:
        amr: [otp]
        max-age: 12h
      interactions: [read, search-type, search-compartment]
      resource-types: [Patient, Observation]
      operations: [$everything]
      patient-limits:
        - window: 24h
          max: 150
        - window: 1h
          max: 40
      at-limit:
        action: lock
        lock-for: 24h
        alert: true
      break-glass:
        patient-limits:
          - {window: 24h, max: 400}
        authentication:
          max-age: 15m
      search:
        max-count: 50
        max-pages: 10
      """;

  private RolePolicy parse(String yaml) throws ConfigException {
    Problems problems = new Problems();
    RolePolicy r = loader.parse("physician.yaml", yaml, problems);
    problems.throwIfAny();
    return r;
  }

  @Test
  void aCompleteRoleFileIsReadIntoItsPolicy() throws Exception {
    RolePolicy r = parse(PHYSICIAN);
    assertThat(r.name()).isEqualTo("physician");
    assertThat(r.roles()).containsExactlyInAnyOrder("physician", "doctor");
    assertThat(r.principalKind()).isEqualTo(Principal.Kind.USER);
    assertThat(r.mode()).isEqualTo(Mode.ENFORCE);
    assertThat(r.authentication().requiredAmr()).containsExactly("otp");
    assertThat(r.authentication().maxAge()).isEqualTo(Duration.ofHours(12));
    assertThat(r.interactions()).containsExactlyInAnyOrder(Interaction.READ, Interaction.SEARCH_TYPE, Interaction.SEARCH_COMPARTMENT);
    assertThat(r.operations()).containsExactly("everything");
    assertThat(r.patientLimits()).extracting(w -> w.name() + "=" + w.max()).containsExactly("1h=40", "24h=150");
    assertThat(r.atLimit().lockFor()).isEqualTo(Duration.ofHours(24));
    assertThat(r.atLimit().alert()).isTrue();
    assertThat(r.breakGlass().enabled()).isTrue();
    assertThat(r.breakGlass().patientLimits()).extracting(w -> w.max()).containsExactly(400);
    assertThat(r.search().maxCount()).isEqualTo(50);
  }

  @Test
  void problemsNameFileLineAndKey() {
    String bad = PHYSICIAN.replace("max: 40", "max: -3").replace("[Patient, Observation]", "[Patient, observation]");
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.problems()).extracting(ConfigProblem::toString).contains(
          "physician.yaml:16: patient-limits[1].max: -3 (expected: 1..10000000)",
          "physician.yaml:10: resource-types: observation (did you mean Observation?)");
    });
  }

  @Test
  void unknownKeysAreRefusedWithTheKeysThatExist() {
    String bad = PHYSICIAN.replace("priority: 100", "priority: 100\nmax-patients: 20");
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("physician.yaml:6: max-patients: unknown key (expected one of: role, description, applies-to"));
  }

  @Test
  void aUserRoleWithoutMfaEvidenceIsRefused() {
    String bad = PHYSICIAN.replace("  amr: [otp]\n", "");
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("authentication: requires no MFA evidence"));
  }

  @Test
  void aRoleWithoutPatientLimitsIsRefused() {
    String bad = PHYSICIAN.substring(0, PHYSICIAN.indexOf("patient-limits:")) + "search:\n  max-count: 5\n";
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("patient-limits: missing or empty"));
  }

  @Test
  void unknownInteractionsAndLockWithoutDurationAreRefused() {
    String bad = PHYSICIAN.replace("[read, search-type, search-compartment]", "[read, search, page]")
        .replace("  lock-for: 24h\n", "");
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.getMessage()).contains("interactions: search (expected one of: read, vread");
      assertThat(e.getMessage()).contains("interactions: page (expected: not listed");
      assertThat(e.getMessage()).contains("at-limit.lock-for: missing (required when action is lock");
    });
  }

  @Test
  void malformedYamlIsAProblemNotACrash() {
    assertThatThrownBy(() -> parse("role: [unclosed\n")).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).startsWith("physician.yaml:").contains("not valid YAML"));
    assertThatThrownBy(() -> parse("- a\n- b\n")).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("expected a YAML mapping"));
    assertThatThrownBy(() -> parse("role: a\nrole: b\n")).isInstanceOf(ConfigException.class);
  }

  @Test
  void billionLaughsIsRefused() {
    StringBuilder y = new StringBuilder("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (char c = 'b'; c <= 'k'; c++) {
      char p = (char) (c - 1);
      y.append(c).append(": &").append(c).append(" [*").append(p).append(",*").append(p).append(",*").append(p)
          .append(",*").append(p).append(",*").append(p).append(",*").append(p).append("]\n");
    }
    assertThatThrownBy(() -> parse(y.toString())).isInstanceOf(ConfigException.class);
  }

  @Test
  void twoPoliciesGoverningTheSameRoleAtTheSamePriorityAreAmbiguous(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("a.yaml"), PHYSICIAN);
    Files.writeString(dir.resolve("b.yaml"), PHYSICIAN.replace("role: physician", "role: doctor-b"));
    assertThatThrownBy(() -> loader.loadDirectory(dir)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("both govern token role(s)"));
    Files.writeString(dir.resolve("b.yaml"), PHYSICIAN.replace("role: physician", "role: doctor-b").replace("priority: 100", "priority: 90"));
    assertThat(loader.loadDirectory(dir).roles()).extracting(RolePolicy::name).containsExactly("physician", "doctor-b");
  }

  @Test
  void anEmptyPolicyDirectoryIsAnError(@TempDir Path dir) {
    assertThatThrownBy(() -> loader.loadDirectory(dir)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage()).contains("no role policy files"));
  }
}
