package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.policy.EnumerationRules;
import org.fhirwall.policy.Mode;
import org.fhirwall.policy.RateRules;
import org.fhirwall.policy.RolePolicy;
import org.fhirwall.policy.SearchRules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class RolePolicyLoaderTest {
  private final RolePolicyLoader loader = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes());

  /** A physician role with every kind of limit; the policy engine's tests read it too. */
  public static final String PHYSICIAN = """
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
          max: 50
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
    return loader.parse("physician.yaml", yaml);
  }

  /** Every problem with {@code yaml}, as {@code validate} prints them. */
  private List<String> problems(String yaml) {
    return problems(loader, yaml);
  }

  private static List<String> problems(RolePolicyLoader loader, String yaml) {
    try {
      loader.parse("physician.yaml", yaml);
    } catch (ConfigException e) {
      return e.problems().stream().map(ConfigProblem::toString).toList();
    }
    throw new AssertionError("read without a problem");
  }

  /** The same role with limits roomy enough for the default search and batch caps. */
  private static String roomy(String yaml) {
    return yaml.replace("max: 50\n", "max: 100\n");
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
    assertThat(r.patientLimits()).extracting(w -> w.name() + "=" + w.max()).containsExactly("1h=50", "24h=150");
    assertThat(r.atLimit().lockFor()).isEqualTo(Duration.ofHours(24));
    assertThat(r.atLimit().alert()).isTrue();
    assertThat(r.breakGlass().enabled()).isTrue();
    assertThat(r.breakGlass().patientLimits()).extracting(w -> w.max()).containsExactly(400);
    assertThat(r.search().maxCount()).isEqualTo(50);
  }


  @Test
  void problemsNameFileLineColumnAndKeyWithTheValueAndWhatWasExpected() {
    assertThat(problems(PHYSICIAN.replace("max: 50", "max: -3"))).containsExactly(
        "physician.yaml:16:10: patient-limits[1].max: -3 (expected: 1..10000000)");
    assertThat(problems(PHYSICIAN.replace("[Patient, Observation]", "[Patient, observation]"))).containsExactly(
        "physician.yaml:10:27: resource-types[1]: observation (did you mean Observation?)");
  }

  @Test
  void unexplainedLimitsAreASecondBudgetWithTheirOwnModeDefaultingToTheRoles() throws Exception {
    RolePolicy none = parse(PHYSICIAN);
    assertThat(none.chargesUnexplained()).isFalse();
    RolePolicy p = parse(PHYSICIAN.replace("at-limit:", "unexplained-limits:\n  - {window: 24h, max: 10}\nat-limit:"));
    assertThat(p.unexplainedLimits()).extracting(w -> w.name() + "=" + w.max()).containsExactly("unexplained-24h=10");
    assertThat(p.enforcesUnexplained()).isTrue();
    RolePolicy measured = parse(PHYSICIAN.replace("at-limit:",
        "unexplained-limits:\n  - {window: 24h, max: 10}\nunexplained-mode: report-only\nat-limit:"));
    assertThat(measured.enforcesUnexplained()).isFalse();
    assertThat(problems(PHYSICIAN.replace("at-limit:", "unexplained-mode: enforce\nat-limit:"))).singleElement().asString()
        .contains("unexplained-mode: enforce without unexplained-limits");
  }

  @Test
  void unknownKeysAreRefusedWithTheKeysThatExist() {
    assertThat(problems(PHYSICIAN.replace("priority: 100", "priority: 100\nmax-patients: 20"))).containsExactly(
        "physician.yaml:6:1: max-patients: unknown key (expected one of: role, description, applies-to, priority, mode, "
            + "authentication, interactions, resource-types, operations, operation-authentication, patient-limits, unexplained-limits, "
            + "unexplained-mode, at-limit, break-glass, search, batch, rate, enumeration)");
  }

  @Test
  void aKeyWrittenTwiceIsRefusedAnywhereSinceTheLastWouldSilentlyWin() {
    String appended = PHYSICIAN.replace("priority: 100", "priority: 100\nmode: enforce") + "mode: report-only\n";
    assertThat(problems(appended)).containsExactly("physician.yaml:30:1: mode: written twice (first at line 6; the later value "
        + "would silently replace the earlier one)");
    assertThat(problems(PHYSICIAN + "  max-count: 5000\n")).containsExactly("physician.yaml:29:3: search.max-count: written twice "
        + "(first at line 27; the later value would silently replace the earlier one)");
    assertThat(problems(PHYSICIAN.replace("{window: 24h, max: 400}", "{window: 24h, max: 400, max: 4000}"))).containsExactly(
        "physician.yaml:23:31: break-glass.patient-limits[0].max: written twice (first at line 23; the later value would silently "
            + "replace the earlier one)");
  }

  @Test
  void mergeKeysAndAliasesThatContainThemselvesAreRefused() {
    assertThat(problems(PHYSICIAN.replace("at-limit:\n", "at-limit:\n  <<: {alert: false}\n"))).first().asString()
        .contains("at-limit.<<: merge keys (<<) are not supported");
    assertThat(problems("role: &r {x: *r}\n")).first().asString().contains("an alias that contains itself");
  }

  @Test
  void valuesAreTypedByWhatTheSchemaExpectsWhereTheyStand() throws Exception {
    RolePolicy r = parse(PHYSICIAN.replace("max: 150", "max: \"150\"").replace("alert: true", "alert: yes")
        .replace("  amr: [otp]\n", "  amr: [otp]\n  acr: [2]\n"));
    assertThat(r.patientLimits()).extracting(w -> w.max()).contains(150);
    assertThat(r.atLimit().alert()).isTrue();
    assertThat(r.authentication().acceptedAcr()).containsExactly("2");
    assertThat(problems(PHYSICIAN.replace("max-pages: 10", "max-pages: many"))).containsExactly(
        "physician.yaml:28:14: search.max-pages: many (expected: a whole number 1..100000)");
  }

  @Test
  void aUserRoleWithoutMfaEvidenceIsRefused() {
    assertThat(problems(PHYSICIAN.replace("  amr: [otp]\n", ""))).containsExactly(
        "physician.yaml:7:3: authentication: requires no MFA evidence (expected for a user role: amr with a second factor, "
            + "amr-any-of, or acr)");
    assertThat(problems(PHYSICIAN.replace("authentication:\n  amr: [otp]\n  max-age: 12h\n", ""))).containsExactly(
        "physician.yaml:1:1: authentication: missing (required for user roles: the MFA evidence this role needs, "
            + "e.g. amr-any-of: [otp, hwk])");
  }

  @Test
  void requirementsNoTokenCanMeetTogetherAreRefused() throws ConfigException {
    String acrRole = PHYSICIAN.replace("  amr: [otp]\n", "  acr: [mfa]\n");
    assertThat(problems(acrRole.replace("    max-age: 15m", "    max-age: 15m\n    acr: [hardware]"))).singleElement()
        .asString().contains("break-glass.authentication: cannot be met together with the role's authentication")
        .contains("no value in common");
    assertThat(problems(acrRole.replace("operations: [$everything]",
        "operations: [$everything]\noperation-authentication:\n  $everything: {acr: [hardware]}"))).singleElement()
        .asString().contains("operation-authentication.$everything: cannot be met together");
    assertThat(loader.parse("physician.yaml", acrRole.replace("operations: [$everything]",
        "operations: [$everything]\noperation-authentication:\n  $everything: {acr: [mfa, hardware]}")).name())
        .isEqualTo("physician");
  }

  @Test
  void aMethodThatIsNoSecondFactorIsNoMfaEvidence() {
    assertThat(problems(PHYSICIAN.replace("amr: [otp]", "amr: [pwd]"))).containsExactly(
        "physician.yaml:7:8: authentication.amr: [pwd] (expected: at least one second factor such as otp or hwk; "
            + "pwd, pin, kba, wia, geo, rba, user are not a second factor)");
    assertThat(problems(PHYSICIAN.replace("amr: [otp]", "amr-any-of: [otp, pwd, kba]"))).containsExactly(
        "physician.yaml:7:21: authentication.amr-any-of[1]: pwd (expected: a second factor such as otp, hwk, swk or mfa; "
            + "a token showing only pwd would pass; pwd, pin, kba, wia, geo, rba, user are not a second factor)",
        "physician.yaml:7:26: authentication.amr-any-of[2]: kba (expected: a second factor such as otp, hwk, swk or mfa; "
            + "a token showing only kba would pass; pwd, pin, kba, wia, geo, rba, user are not a second factor)");
    assertThat(problems(PHYSICIAN.replace("    max-age: 15m", "    max-age: 15m\n    amr-any-of: [pin]"))).singleElement()
        .asString().startsWith("physician.yaml:26:18: break-glass.authentication.amr-any-of[0]: pin (expected: a second factor");
    assertThat(problems(PHYSICIAN.replace("operations: [$everything]",
        "operations: [$everything]\noperation-authentication:\n  $everything: {amr-any-of: [wia]}"))).singleElement()
        .asString().startsWith("physician.yaml:13:30: operation-authentication.$everything.amr-any-of[0]: wia (expected: a second factor");
  }

  @Test
  void anAcrTheDeploymentListsAsNotMfaIsNoMfaEvidence() throws Exception {
    assertThat(problems(PHYSICIAN.replace("amr: [otp]", "acr: [mfa, 1]"))).containsExactly(
        "physician.yaml:7:14: authentication.acr[1]: 1 (expected: an acr that means MFA; identity.non-mfa-acr lists 0, 1, pwd as not MFA)");
    assertThat(problems(PHYSICIAN.replace("amr: [otp]", "acr: [pwd]"))).singleElement().asString()
        .startsWith("physician.yaml:7:9: authentication.acr[0]: pwd (expected: an acr that means MFA");
    RolePolicyLoader strict = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes(), Set.of("0", "1", "pwd", "loa2"));
    assertThat(problems(strict, PHYSICIAN.replace("amr: [otp]", "acr: [loa2]"))).singleElement().asString()
        .contains("authentication.acr[0]: loa2 (expected: an acr that means MFA; identity.non-mfa-acr lists 0, 1, loa2, pwd");
    assertThat(parse(PHYSICIAN.replace("amr: [otp]", "acr: [mfa]")).authentication().acceptedAcr()).containsExactly("mfa");
    assertThat(parse(PHYSICIAN.replace("amr: [otp]", "amr: [pwd, otp]")).authentication().requiredAmr()).contains("pwd", "otp");
  }

  @Test
  void oneSearchPageOrBatchMayNotTakeAPrincipalOverTheSmallestLimit() throws Exception {
    assertThat(problems(PHYSICIAN.replace("max-count: 50", "max-count: 51"))).containsExactly(
        "physician.yaml:27:14: search.max-count: 51 is more than the role's smallest patient limit (50 in 1h): one search page "
            + "could take a principal over it (expected: at most 50)");
    assertThat(problems(PHYSICIAN.replace("search:\n  max-count: 50\n", "search:\n"))).containsExactly(
        "physician.yaml:27:3: search.max-count: 100, the default, is more than the role's smallest patient limit (50 in 1h): "
            + "one search page could take a principal over it (expected: at most 50)");
    assertThat(problems(PHYSICIAN.replace("search-compartment]", "search-compartment, batch]"))).containsExactly(
        "physician.yaml:1:1: batch.max-entries: 100, the default, is more than the role's smallest patient limit (50 in 1h): "
            + "one batch of reads could take a principal over it (expected: at most 50)");
    assertThat(parse(PHYSICIAN.replace("search-compartment]", "search-compartment, batch]") + "batch:\n  max-entries: 50\n")
        .batch().maxEntries()).isEqualTo(50);
    assertThat(parse(PHYSICIAN.replace("[read, search-type, search-compartment]", "[read]").replace("max-count: 50", "max-count: 500"))
        .search().maxCount()).as("a role that never searches").isEqualTo(500);
  }

  @Test
  void aRoleMayNotForwardALargerCountThanTheEprsPageWhenTheDeploymentSaysIt() throws Exception {
    Set<String> types = FhirContext.forR4Cached().getResourceTypes();
    RolePolicyLoader epr40 = new RolePolicyLoader(types, Set.of("0", "1", "pwd"), 40);
    assertThat(problems(epr40, PHYSICIAN)).containsExactly(
        "physician.yaml:27:14: search.max-count: 50 is more than the EPR's largest page (upstream.max-page-size 40): a page the "
            + "EPR cuts shorter than the _count fhirwall forwards would tell, by its next link, whether more records match "
            + "(expected: at most 40)");
    assertThat(epr40.parse("physician.yaml", PHYSICIAN.replace("max-count: 50", "max-count: 40")).search().maxCount()).isEqualTo(40);
    assertThat(new RolePolicyLoader(types, Set.of("0", "1", "pwd"), 50).parse("physician.yaml", PHYSICIAN).search().maxCount())
        .as("the EPR's page exactly").isEqualTo(50);
    assertThat(new RolePolicyLoader(types, Set.of("0", "1", "pwd"), null).parse("physician.yaml", PHYSICIAN).search().maxCount())
        .as("not said: not checked").isEqualTo(50);
    assertThat(epr40.parse("physician.yaml", PHYSICIAN.replace("[read, search-type, search-compartment]", "[read]")).search()
        .maxCount()).as("a role that never searches").isEqualTo(50);
    assertThat(problems(epr40, PHYSICIAN.replace("[read, search-type, search-compartment]", "[read, batch]")
        + "batch:\n  max-entries: 10\n")).as("a batch's searches are forwarded at max-count too").singleElement().asString()
        .contains("search.max-count: 50 is more than the EPR's largest page");
  }

  @Test
  void aRoleWithoutPatientLimitsIsRefused() {
    String bad = PHYSICIAN.substring(0, PHYSICIAN.indexOf("patient-limits:")) + "search:\n  max-count: 5\n";
    assertThat(problems(bad)).containsExactly("physician.yaml:1:1: patient-limits: missing (required)");
  }

  @Test
  void unknownInteractionsAreRefusedWithTheInteractionsThatExist() {
    assertThat(problems(PHYSICIAN.replace("[read, search-type, search-compartment]", "[read, search, page]"))).containsExactly(
        "physician.yaml:9:22: interactions[1]: search (expected one of: read, vread, update, patch, delete, create, history-instance, "
            + "history-type, history-system, search-type, search-system, search-compartment, capabilities, batch, transaction, "
            + "operation-system, operation-type, operation-instance)",
        "physician.yaml:9:30: interactions[2]: page (expected one of: read, vread, update, patch, delete, create, history-instance, "
            + "history-type, history-system, search-type, search-system, search-compartment, capabilities, batch, transaction, "
            + "operation-system, operation-type, operation-instance)");
  }

  @Test
  void aLockNeedsItsDurationAndOnlyALockHasOne() {
    assertThat(problems(PHYSICIAN.replace("  lock-for: 24h\n", ""))).containsExactly(
        "physician.yaml:18:3: at-limit.lock-for: missing (required with action: lock, e.g. lock-for: 24h)");
    assertThat(problems(PHYSICIAN.replace("action: lock", "action: refuse"))).containsExactly(
        "physician.yaml:19:13: at-limit.lock-for: 24h while action is refuse (expected: action: lock, or no lock-for)");
  }

  @Test
  void malformedYamlIsAProblemNotACrash() {
    assertThat(problems("role: [unclosed\n")).singleElement().asString().startsWith("physician.yaml:2:1: not valid YAML");
    assertThat(problems("- a\n- b\n")).containsExactly("physician.yaml:1:1: expected a YAML mapping of keys to values");
    assertThat(problems("")).containsExactly("physician.yaml: empty file (expected: a YAML mapping of keys to values)");
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
    RolePolicy r = parse(roomy(withKeys("")));
    SearchRules s = r.search();
    assertThat(s.maxCount()).isEqualTo(100);
    assertThat(s.maxPages()).isEqualTo(50);
    assertThat(s.unselective()).isEqualTo(SearchRules.Unselective.REFUSE);
    assertThat(s.include()).isEqualTo(SearchRules.IncludeRules.NONE);
    assertThat(s.parameters()).hasSize(20);
    assertThat(s.parameters().get("Patient")).containsExactlyInAnyOrder("_id", "identifier", "name", "family", "given", "birthdate", "gender");
    assertThat(s.allowsParameter("Basic", "patient")).isTrue();
    assertThat(s.allowsParameter("Patient", "address")).isFalse();
    assertThat(s.modifiers()).containsExactlyInAnyOrder("exact", "missing", "text", "of-type", "identifier");
    assertThat(s.maxOrValues()).isEqualTo(10);
    assertThat(s.chains()).isFalse();
    assertThat(s.has()).isFalse();
    assertThat(s.requirePatientCriterion()).isTrue();
    assertThat(r.batch().maxEntries()).isEqualTo(100);
    assertThat(r.rate()).isEqualTo(new RateRules(20, 40, 8));
    assertThat(r.enumeration()).isEqualTo(new EnumerationRules(20, Duration.ofMinutes(10), EnumerationRules.Action.LOCK,
        Duration.ofHours(1)));
    RolePolicy partial = parse(roomy(withKeys("search:\n  max-count: 7\nrate:\n  burst: 60\nenumeration:\n  action: alert\n")));
    assertThat(partial.search().maxCount()).isEqualTo(7);
    assertThat(partial.search().unselective()).isEqualTo(SearchRules.Unselective.REFUSE);
    assertThat(partial.rate()).isEqualTo(new RateRules(20, 60, 8));
    assertThat(partial.enumeration().locks()).isFalse();
    assertThat(partial.enumeration().lockFor()).isNull();
  }

  @Test
  void aServiceRoleCapsUnselectiveSearchesNeedsNoPatientCriterionAndOnlyAlertsOnIdWalks() throws Exception {
    String svc = roomy(withKeys("")).replace("  roles: [physician, doctor]\n", "  roles: [physician, doctor]\n  principal: service\n")
        .replace("operations: [$everything]", "operations: [export]");
    RolePolicy r = parse(svc);
    assertThat(r.search().unselective()).isEqualTo(SearchRules.Unselective.CAP);
    assertThat(r.search().requirePatientCriterion()).isFalse();
    assertThat(r.search().include()).isEqualTo(SearchRules.IncludeRules.NONE);
    assertThat(r.rate()).isEqualTo(new RateRules(50, 100, 16));
    assertThat(r.enumeration().action()).isEqualTo(EnumerationRules.Action.ALERT);
  }

  @Test
  void badBulkQueryKeysAreReportedWithFileLineColumnAndKey() {
    String bad = withKeys("""
        search:
          unselective: allow
          include:
            - Observation:subject
            - "*"
            - Observation:subject:iterate
            - observation:subject
          include-iterate: maybe
          parameters:
            Patient: [name, "name:exact", "subject.name"]
          modifiers: [exact, iterate, Patient]
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
    String include = " (expected: SourceType:parameter or SourceType:parameter:TargetType, e.g. Observation:subject; a wildcard "
        + "needs include-wildcard: true, :iterate needs include-iterate: true)";
    String modifier = " (expected: one of above, below, code-text, contains, exact, identifier, in, missing, not, not-in, of-type, "
        + "text, text-advanced, type; :iterate is allowed by search.include-iterate, a resource-type modifier such as subject:Patient "
        + "always is)";
    String parameter = " (expected: a search parameter name such as code or birthdate, or \"*\"; modifiers go in search.modifiers, "
        + "chains are allowed by search.chains)";
    assertThat(problems(bad)).containsExactly(
        "physician.yaml:27:16: search.unselective: allow (expected one of: refuse, cap)",
        "physician.yaml:30:7: search.include[1]: *" + include,
        "physician.yaml:31:7: search.include[2]: Observation:subject:iterate" + include,
        "physician.yaml:32:7: search.include[3]: observation:subject" + include,
        "physician.yaml:33:20: search.include-iterate: maybe (expected: true or false)",
        "physician.yaml:35:21: search.parameters.Patient[1]: name:exact" + parameter,
        "physician.yaml:35:35: search.parameters.Patient[2]: subject.name" + parameter,
        "physician.yaml:36:22: search.modifiers[1]: iterate" + modifier,
        "physician.yaml:36:31: search.modifiers[2]: Patient" + modifier,
        "physician.yaml:37:18: search.max-or-values: 0 (expected: 1..1000)",
        "physician.yaml:38:11: search.chains: sometimes (expected: true or false)",
        "physician.yaml:40:16: batch.max-entries: 0 (expected: 1..10000)",
        "physician.yaml:41:3: batch.max-size: unknown key (expected one of: max-entries)",
        "physician.yaml:43:24: rate.requests-per-second: 0 (expected: > 0 and <= 100000)",
        "physician.yaml:44:10: rate.burst: -1 (expected: 1..1000000)",
        "physician.yaml:45:15: rate.concurrent: many (expected: a whole number 1..10000)",
        "physician.yaml:47:18: enumeration.max-not-found: 0 (expected: 1..1000000)",
        "physician.yaml:48:11: enumeration.window: forever (expected: a positive duration such as 500ms, 30s, 15m, 1h, 7d)",
        "physician.yaml:49:11: enumeration.action: ban (expected one of: lock, alert)");
  }

  @Test
  void searchKeysTheSchemaCannotJudgeAreReportedToo() {
    String bad = withKeys("""
        search:
          max-count: 50
          include: [Observation:subject:Patinet, "Patient:organization"]
          parameters:
            Patient: [name, _has, _count]
            Patinet: [name]
        """);
    assertThat(problems(bad)).containsExactly(
        "physician.yaml:28:13: search.include[0]: Observation:subject:Patinet (expected: an R4 resource type, exact case)",
        "physician.yaml:30:21: search.parameters.Patient[1]: _has (expected: not listed; reverse chains are allowed by search.has: true)",
        "physician.yaml:30:27: search.parameters.Patient[2]: _count (expected: a search criterion; result parameters such as _count "
            + "are governed by other search keys)",
        "physician.yaml:31:14: search.parameters.Patinet: not a resource type (expected: an R4 resource type, exact case)");
  }

  @Test
  void anEnumerationLockForWithoutLockAndExportOnAUserRoleAreRefused() {
    String bad = roomy(withKeys("enumeration:\n  action: alert\n  lock-for: 1h\n")).replace("operations: [$everything]",
        "operations: [$everything, $export]");
    assertThat(problems(bad)).containsExactly(
        "physician.yaml:11:13: operations: export (expected: not listed for a user role; bulk export needs Prefer: respond-async, "
            + "which interactive users never get; give it to a service role: applies-to.principal: service)",
        "physician.yaml:28:13: enumeration.lock-for: 1h while action is alert (expected: action: lock, or no lock-for)");
  }

  @Test
  void anOperationTheRoleMayNotUseCannotHaveItsOwnAuthentication() {
    assertThat(problems(PHYSICIAN.replace("operations: [$everything]",
        "operations: [$everything]\noperation-authentication:\n  $export: {max-age: 15m}"))).containsExactly(
        "physician.yaml:13:12: operation-authentication.$export: not in operations (expected: an operation this role may use: [everything])");
    assertThat(problems(PHYSICIAN.replace("operations: [$everything]",
        "operations: [$everything]\noperation-authentication:\n  $everything: {}"))).containsExactly(
        "physician.yaml:13:16: operation-authentication.$everything: empty (expected: at least one of: acr, amr, amr-any-of, max-age, sender-constrained)");
  }
}
