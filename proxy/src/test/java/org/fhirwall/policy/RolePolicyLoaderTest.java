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

  static final String BULK_KEYS = """
      search:
        max-count: 50
        max-pages: 10
        unselective: cap
        include: [Observation:subject, "Encounter:subject:Patient"]
        include-wildcard: false
        include-iterate: true
        parameters:
          Patient: [name, birthdate, _id]
          Observation: [subject, code]
          "*": [patient]
        modifiers: [exact, ":missing"]
        max-or-values: 5
        chains: true
        has: false
        require-patient-criterion: false
      batch:
        max-entries: 25
      rate:
        requests-per-second: 2.5
        burst: 10
        concurrent: 4
      enumeration:
        max-not-found: 30
        window: 5m
        action: lock
        lock-for: 2h
      """;

  private static String withKeys(String keys) {
    return PHYSICIAN.substring(0, PHYSICIAN.indexOf("search:")) + keys;
  }

  @Test
  void everyBulkQueryKeyIsRead() throws Exception {
    RolePolicy r = parse(withKeys(BULK_KEYS));
    SearchRules s = r.search();
    assertThat(s.unselective()).isEqualTo(SearchRules.Unselective.CAP);
    assertThat(s.include().targets()).containsExactlyInAnyOrder("Observation:subject", "Encounter:subject:Patient");
    assertThat(s.include().wildcard()).isFalse();
    assertThat(s.include().iterate()).isTrue();
    assertThat(s.parameters()).containsOnlyKeys("Patient", "Observation", "*");
    assertThat(s.parameters().get("Patient")).containsExactlyInAnyOrder("name", "birthdate", "_id");
    assertThat(s.allowsParameter("Condition", "patient")).isTrue();
    assertThat(s.allowsParameter("Condition", "code")).isFalse();
    assertThat(s.modifiers()).containsExactlyInAnyOrder("exact", "missing");
    assertThat(s.maxOrValues()).isEqualTo(5);
    assertThat(s.chains()).isTrue();
    assertThat(s.has()).isFalse();
    assertThat(s.requirePatientCriterion()).isFalse();
    assertThat(r.batch().maxEntries()).isEqualTo(25);
    assertThat(r.rate()).isEqualTo(new RateRules(2.5, 10, 4));
    assertThat(r.rate().toLimit().perSecond()).isEqualTo(2.5);
    assertThat(r.enumeration()).isEqualTo(new EnumerationRules(30, Duration.ofMinutes(5), EnumerationRules.Action.LOCK,
        Duration.ofHours(2)));
  }

  @Test
  void leftOutKeysGetTheDocumentedDefaultsForAUserRole() throws Exception {
    RolePolicy r = parse(withKeys(""));
    SearchRules s = r.search();
    assertThat(s).isEqualTo(SearchRules.defaults(Principal.Kind.USER));
    assertThat(s.maxCount()).isEqualTo(100);
    assertThat(s.maxPages()).isEqualTo(50);
    assertThat(s.unselective()).isEqualTo(SearchRules.Unselective.REFUSE);
    assertThat(s.include()).isEqualTo(SearchRules.IncludeRules.NONE);
    assertThat(s.parameters()).isEqualTo(SearchRules.DEFAULT_PARAMETERS);
    assertThat(s.modifiers()).containsExactlyInAnyOrder("exact", "missing", "text", "of-type", "identifier");
    assertThat(s.maxOrValues()).isEqualTo(10);
    assertThat(s.chains()).isFalse();
    assertThat(s.has()).isFalse();
    assertThat(s.requirePatientCriterion()).isTrue();
    assertThat(r.batch().maxEntries()).isEqualTo(100);
    assertThat(r.rate()).isEqualTo(new RateRules(20, 40, 8));
    assertThat(r.enumeration()).isEqualTo(new EnumerationRules(20, Duration.ofMinutes(10), EnumerationRules.Action.LOCK,
        Duration.ofHours(1)));
    RolePolicy partial = parse(withKeys("search:\n  max-count: 7\nrate:\n  burst: 60\nenumeration:\n  action: alert\n"));
    assertThat(partial.search().maxCount()).isEqualTo(7);
    assertThat(partial.search().unselective()).isEqualTo(SearchRules.Unselective.REFUSE);
    assertThat(partial.rate()).isEqualTo(new RateRules(20, 60, 8));
    assertThat(partial.enumeration().locks()).isFalse();
    assertThat(partial.enumeration().lockFor()).isNull();
  }

  @Test
  void aServiceRoleCapsUnselectiveSearchesNeedsNoPatientCriterionAndOnlyAlertsOnIdWalks() throws Exception {
    String svc = withKeys("").replace("  roles: [physician, doctor]\n", "  roles: [physician, doctor]\n  principal: service\n")
        .replace("operations: [$everything]", "operations: [export]");
    RolePolicy r = parse(svc);
    assertThat(r.search().unselective()).isEqualTo(SearchRules.Unselective.CAP);
    assertThat(r.search().requirePatientCriterion()).isFalse();
    assertThat(r.search().include()).isEqualTo(SearchRules.IncludeRules.NONE);
    assertThat(r.rate()).isEqualTo(new RateRules(50, 100, 16));
    assertThat(r.enumeration().action()).isEqualTo(EnumerationRules.Action.ALERT);
  }

  @Test
  void badBulkQueryKeysAreReportedWithFileLineAndKey() {
    String bad = withKeys("""
        search:
          unselective: allow
          include:
            - Observation:subject
            - "*"
            - Observation:subject:iterate
            - observation:subject
            - Observation:subject:Patinet
          include-iterate: maybe
          parameters:
            Patient: [name, "name:exact", _has, _count, "subject.name"]
            Patinet: [name]
          modifiers: [exact, iterate, Patient, fuzzy]
          max-or-values: 0
          chains: sometimes
        batch:
          max-entries: 0
          max-size: 3
        rate:
          requests-per-second: 0
          burst: -1
          concurrent: many
        enumeration:
          max-not-found: 0
          window: forever
          action: ban
        """);
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.problems()).extracting(ConfigProblem::toString).contains(
          "physician.yaml:27: search.unselective: allow (expected one of: refuse, cap)",
          "physician.yaml:30: search.include: * (expected: no wildcard here; set include-wildcard: true to allow *)",
          "physician.yaml:31: search.include: Observation:subject:iterate (expected: the target only; set include-iterate: true to allow :iterate)",
          "physician.yaml:32: search.include: observation:subject (expected: SourceType:parameter or SourceType:parameter:TargetType, e.g. Observation:subject)",
          "physician.yaml:33: search.include: Observation:subject:Patinet (expected: an R4 resource type, exact case)",
          "physician.yaml:34: search.include-iterate: maybe (expected: true or false)",
          "physician.yaml:36: search.parameters.Patient: name:exact (expected: the parameter name alone; modifiers go in search.modifiers, chains are allowed by search.chains)",
          "physician.yaml:36: search.parameters.Patient: _has (expected: not listed; reverse chains are allowed by search.has: true)",
          "physician.yaml:36: search.parameters.Patient: _count (expected: a search criterion; result parameters such as _count are governed by other search keys)",
          "physician.yaml:36: search.parameters.Patient: subject.name (expected: the parameter name alone; modifiers go in search.modifiers, chains are allowed by search.chains)",
          "physician.yaml:37: search.parameters.Patinet: not a resource type (expected: an R4 resource type, exact case)",
          "physician.yaml:38: search.modifiers: iterate (expected: not listed; :iterate is allowed by search.include-iterate)",
          "physician.yaml:38: search.modifiers: Patient (expected: not listed; a resource-type modifier such as subject:Patient is always allowed)",
          "physician.yaml:39: search.max-or-values: 0 (expected: 1..1000)",
          "physician.yaml:40: search.chains: sometimes (expected: true or false)",
          "physician.yaml:42: batch.max-entries: 0 (expected: 1..10000)",
          "physician.yaml:43: batch.max-size: unknown key (expected one of: max-entries)",
          "physician.yaml:45: rate.requests-per-second: 0 (expected: > 0 and <= 100000)",
          "physician.yaml:46: rate.burst: -1 (expected: 1..1000000)",
          "physician.yaml:47: rate.concurrent: many (expected: a whole number 1..10000)",
          "physician.yaml:49: enumeration.max-not-found: 0 (expected: 1..1000000)",
          "physician.yaml:50: enumeration.window: forever (expected: a positive duration such as 500ms, 30s, 15m, 1h, 7d)",
          "physician.yaml:51: enumeration.action: ban (expected one of: lock, alert)");
      assertThat(e.getMessage()).contains("physician.yaml:38: search.modifiers: fuzzy (expected one of: above, below, code-text");
    });
  }

  @Test
  void aLockForWithoutLockAndExportOnAUserRoleAreRefused() {
    String bad = withKeys("enumeration:\n  action: alert\n  lock-for: 1h\n").replace("operations: [$everything]",
        "operations: [$everything, $export]");
    assertThatThrownBy(() -> parse(bad)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.getMessage()).contains("physician.yaml:28: enumeration.lock-for: set while action is alert (expected: action: lock)");
      assertThat(e.getMessage()).contains("physician.yaml:11: operations: export (expected: not listed for a user role");
    });
  }
}
