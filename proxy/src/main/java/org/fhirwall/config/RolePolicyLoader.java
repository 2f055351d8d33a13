package org.fhirwall.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.fhirwall.auth.AuthenticationStrength;
import org.fhirwall.auth.SenderConstraint;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.policy.BatchRules;
import org.fhirwall.policy.EnumerationRules;
import org.fhirwall.policy.Mode;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RateRules;
import org.fhirwall.policy.RolePolicy;
import org.fhirwall.policy.SearchRules;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * Reads role policy files (one role per YAML file) into a {@link PolicySet}. Each file is read
 * strictly ({@link YamlDocument}), validated against {@code policies/schema.json} (which holds every
 * key, its default, its per-key rule and its documentation), filled in with the defaults of its
 * principal kind and bound into a {@link RolePolicy}. What a schema cannot say is checked here:
 * resource types known to the FHIR version, rules between keys ({@code at-limit.lock-for} with
 * {@code action: lock}, an operation's authentication only for a listed operation, ...), and what
 * would weaken a role by accident:
 *
 * <ul>
 *   <li>a user role must require MFA evidence, and an {@code amr-any-of} or {@code acr} value that
 *       is not MFA evidence ({@link MfaEvidence}) is refused wherever authentication is written;
 *   <li>{@code search.max-count} (when the role searches) and {@code batch.max-entries} (when it may
 *       send batches) may not exceed the role's smallest patient limit: one request could take a
 *       principal over it, and lock a clinician out for an ordinary search.
 * </ul>
 *
 * Every problem names file, line, column and key. Thread-safe (no state besides its settings).
 */
public final class RolePolicyLoader {
  private static final Schema SCHEMA = Schema.ROLE;
  private static final Pattern INCLUDE = Pattern.compile("([A-Z][A-Za-z]+):([a-z_][a-zA-Z0-9_-]*)(?::([A-Z][A-Za-z]+))?");

  private final Set<String> knownResourceTypes;
  private final Set<String> nonMfaAcr;
  private final @Nullable Integer eprMaxPageSize;

  /**
   * A loader that refuses the deployment schema's default {@code identity.non-mfa-acr} values as
   * MFA evidence (for {@code validate} of role files without their deployment file).
   *
   * @param knownResourceTypes the resource types of the FHIR version in use (exact case)
   */
  public RolePolicyLoader(Set<String> knownResourceTypes) {
    this(knownResourceTypes, defaultNonMfaAcr());
  }

  /** @param nonMfaAcr the deployment's {@code identity.non-mfa-acr}: acr values that are not MFA evidence */
  public RolePolicyLoader(Set<String> knownResourceTypes, Set<String> nonMfaAcr) {
    this(knownResourceTypes, nonMfaAcr, null);
  }

  /**
   * @param nonMfaAcr the deployment's {@code identity.non-mfa-acr}: acr values that are not MFA evidence
   * @param eprMaxPageSize the deployment's {@code upstream.max-page-size}: a role that searches may not forward a
   *     larger {@code _count} ({@code search.max-count}); null: not checked
   */
  public RolePolicyLoader(Set<String> knownResourceTypes, Set<String> nonMfaAcr, @Nullable Integer eprMaxPageSize) {
    this.knownResourceTypes = Set.copyOf(knownResourceTypes);
    this.nonMfaAcr = Set.copyOf(nonMfaAcr);
    this.eprMaxPageSize = eprMaxPageSize;
  }

  private static Set<String> defaultNonMfaAcr() {
    Set<String> out = new HashSet<>();
    Schema.DEPLOYMENT.defaultOf(Schema.DEPLOYMENT.keySchema(List.of("identity", "non-mfa-acr")), null).forEach(v -> out.add(v.asText()));
    return out;
  }

  /** Policies read from files, with where each file's keys stand (for problems found later, on reload). */
  record Loaded(PolicySet policies, Map<String, Locations> where) {}

  /** Loads every {@code *.yaml}/{@code *.yml} file directly in {@code dir}. */
  public PolicySet loadDirectory(Path dir) throws ConfigException {
    return loadLocated(dir).policies();
  }

  /** Loads a set of files as one policy set (used by {@code validate}). */
  public PolicySet loadFiles(List<Path> files) throws ConfigException {
    Problems problems = new Problems();
    Loaded loaded = load(files, problems);
    problems.throwIfAny();
    return loaded.policies();
  }

  /** Reads one role policy document (tests, tools). */
  public RolePolicy parse(String file, String yaml) throws ConfigException {
    Problems problems = new Problems();
    RolePolicy r = parse(file, yaml, problems, new HashMap<>());
    problems.throwIfAny();
    if (r == null) {
      throw new IllegalStateException(file + ": not read, yet no problem recorded");
    }
    return r;
  }

  Loaded loadLocated(Path dir) throws ConfigException {
    Problems problems = new Problems();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(RolePolicyLoader::isYaml).sorted().forEach(files::add);
    } catch (IOException e) {
      problems.add(new ConfigProblem(dir.toString(), "", "cannot list policy directory: " + e.getMessage()));
      problems.throwIfAny();
    }
    if (files.isEmpty()) {
      problems.add(new ConfigProblem(dir.toString(), "", "no role policy files (expected: *.yaml files, one role each)"));
    }
    Loaded loaded = load(files, problems);
    problems.throwIfAny();
    return loaded;
  }

  static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".yaml") || n.endsWith(".yml"));
  }

  private Loaded load(List<Path> files, Problems problems) {
    List<RolePolicy> roles = new ArrayList<>();
    Map<String, Locations> where = new HashMap<>();
    for (Path f : files) {
      String text;
      try {
        text = Files.readString(f, StandardCharsets.UTF_8);
      } catch (IOException e) {
        problems.add(new ConfigProblem(f.toString(), "", "cannot read: " + e.getMessage()));
        continue;
      }
      RolePolicy r = parse(f.toString(), text, problems, where);
      if (r != null) {
        roles.add(r);
      }
    }
    checkTogether(roles, where, problems);
    return new Loaded(new PolicySet(roles), Map.copyOf(where));
  }

  private @Nullable RolePolicy parse(String file, String text, Problems problems, Map<String, Locations> located) {
    int before = problems.size();
    Locations where = new Locations(Location.wholeFile(file));
    ObjectNode tree = YamlDocument.read(file, text, SCHEMA, null, where, problems);
    if (tree == null) {
      return null;
    }
    SCHEMA.validate(tree, where, problems);
    SCHEMA.checkBounds(tree, where, problems);
    if (problems.size() > before) {
      return null;
    }
    String kindCode = tree.path("applies-to").path("principal").asText("user");
    Principal.Kind kind = kindCode.equals("service") ? Principal.Kind.SERVICE : Principal.Kind.USER;
    ObjectNode full = tree.deepCopy();
    SCHEMA.applyDefaults(full, kindCode);
    located.put(file, where);
    RolePolicy r = bind(file, new ConfigTree(full, tree, where, problems), kind);
    return problems.size() > before ? null : r;
  }

  private @Nullable RolePolicy bind(String file, ConfigTree root, Principal.Kind kind) {
    boolean user = kind == Principal.Kind.USER;
    Set<Interaction> interactions = new LinkedHashSet<>();
    for (String code : root.strings("interactions")) {
      Interaction.fromCode(code).ifPresent(interactions::add);
    }
    Set<String> resourceTypes = new LinkedHashSet<>();
    List<String> types = root.strings("resource-types");
    for (int i = 0; i < types.size(); i++) {
      String t = types.get(i);
      if (t.equals(RolePolicy.ANY_TYPE) || knownResourceTypes.contains(t)) {
        resourceTypes.add(t);
      } else {
        root.problemAt("resource-types", i, t + " (" + typeHint(t) + ")");
      }
    }
    Set<String> operations = new LinkedHashSet<>();
    root.strings("operations").forEach(op -> operations.add(withoutDollar(op)));
    if (user && operations.contains("export")) {
      root.problem("operations", "export (expected: not listed for a user role; bulk export needs Prefer: respond-async, "
          + "which interactive users never get; give it to a service role: applies-to.principal: service)");
    }

    AuthenticationStrength authentication = AuthenticationStrength.NONE;
    ConfigTree auth = root.optional("authentication");
    if (auth != null) {
      authentication = strength(auth);
      boolean evidence = MfaEvidence.check(auth, nonMfaAcr, user);
      if (user && !evidence) {
        MfaEvidence.reportMissing(auth);
      }
    } else if (user) {
      root.problem("authentication", "missing (required for user roles: the MFA evidence this role needs, e.g. amr-any-of: [otp, hwk])");
    }

    List<PatientWindow> limits = windows(root, "patient-limits");
    List<PatientWindow> unexplained = windows(root, "unexplained-limits").stream()
        .map(w -> PatientWindow.unexplained(w.length(), w.max())).toList();
    Mode mode = root.text("mode").equals("enforce") ? Mode.ENFORCE : Mode.REPORT_ONLY;
    String unexplainedMode = root.optionalText("unexplained-mode");
    if (unexplainedMode != null && unexplained.isEmpty()) {
      root.problem("unexplained-mode", unexplainedMode + " without unexplained-limits (expected: unexplained-limits, or no "
          + "unexplained-mode)");
    }
    ConfigTree at = root.at("at-limit");
    boolean lock = at.text("action").equals("lock");
    if (lock && !at.has("lock-for")) {
      at.problem("lock-for", "missing (required with action: lock, e.g. lock-for: 24h)");
    } else if (!lock && at.has("lock-for")) {
      at.problem("lock-for", at.text("lock-for") + " while action is refuse (expected: action: lock, or no lock-for)");
    }
    RolePolicy.AtLimit atLimit = new RolePolicy.AtLimit(lock ? at.optionalDuration("lock-for") : null, at.bool("alert"));

    RolePolicy.BreakGlass breakGlass = RolePolicy.BreakGlass.DISABLED;
    ConfigTree bg = root.optional("break-glass");
    if (bg != null) {
      ConfigTree bgAuth = bg.optional("authentication");
      AuthenticationStrength bgStrength = bgAuth == null ? AuthenticationStrength.NONE : strength(bgAuth);
      if (bgAuth != null) {
        MfaEvidence.check(bgAuth, nonMfaAcr, user);
      }
      if (user && bgStrength.maxAge() == null) {
        bg.problem("authentication", "no max-age (expected: break-glass needs a recent MFA, e.g. authentication: {max-age: 15m})");
      }
      authentication.and(bgStrength).conflict().ifPresent(why -> bg.problem("authentication",
          "cannot be met together with the role's authentication: " + why + " (expected: requirements a token can meet)"));
      breakGlass = new RolePolicy.BreakGlass(true, windows(bg, "patient-limits"), bgStrength);
    }

    Map<String, AuthenticationStrength> operationAuthentication = new LinkedHashMap<>();
    ConfigTree oa = root.at("operation-authentication");
    for (String op : oa.keys()) {
      String name = withoutDollar(op);
      if (!operations.contains(name)) {
        oa.problem(op, "not in operations (expected: an operation this role may use: " + operations + ")");
      }
      MfaEvidence.check(oa.at(op), nonMfaAcr, user);
      AuthenticationStrength sensitive = strength(oa.at(op));
      authentication.and(sensitive).conflict().ifPresent(why -> oa.problem(op,
          "cannot be met together with the role's authentication: " + why + " (expected: requirements a token can meet)"));
      operationAuthentication.put(name, sensitive);
    }

    SearchRules search = search(root.at("search"));
    BatchRules batch = new BatchRules(root.at("batch").integer("max-entries"));
    if (!limits.isEmpty()) {
      checkOneRequestStaysUnderTheLimit(root, limits, interactions, search, batch);
    }
    checkPagesAreTheEprs(root, interactions, search);
    ConfigTree rate = root.at("rate");
    RateRules rates = new RateRules(rate.number("requests-per-second"), rate.integer("burst"), rate.integer("concurrent"));
    EnumerationRules enumeration = enumeration(root.at("enumeration"));

    ConfigTree appliesTo = root.at("applies-to");
    if (limits.isEmpty()) {
      return null;
    }
    return new RolePolicy(root.text("role"), file, root.text("description"), new LinkedHashSet<>(appliesTo.strings("roles")), kind,
        root.integer("priority"), mode, authentication,
        interactions, resourceTypes, operations, limits, atLimit, breakGlass, search, batch, rates, enumeration,
        operationAuthentication, unexplained,
        unexplainedMode == null ? mode : unexplainedMode.equals("enforce") ? Mode.ENFORCE : Mode.REPORT_ONLY);
  }

  /**
   * One request may not disclose more patients than the role's smallest limit allows: a search
   * page carries up to {@code search.max-count} patients, a batch up to {@code batch.max-entries}
   * reads. Otherwise one ordinary request (a doctor's {@code Patient?gender=female}) takes the
   * principal over the limit, and with {@code at-limit.action: lock} locks them out.
   */
  private static void checkOneRequestStaysUnderTheLimit(ConfigTree root, List<PatientWindow> limits, Set<Interaction> interactions,
      SearchRules search, BatchRules batch) {
    PatientWindow smallest = limits.stream().min(Comparator.comparingInt(PatientWindow::max)).orElseThrow();
    String limit = "the role's smallest patient limit (" + smallest.max() + " in " + smallest.name() + ")";
    boolean searches = interactions.stream().anyMatch(Interaction::isSearch);
    if (searches && search.maxCount() > smallest.max()) {
      ConfigTree s = root.at("search");
      s.problem("max-count", search.maxCount() + (s.isSet("max-count") ? "" : ", the default,") + " is more than " + limit
          + ": one search page could take a principal over it (expected: at most " + smallest.max() + ")");
    }
    boolean batches = interactions.contains(Interaction.BATCH) || interactions.contains(Interaction.TRANSACTION);
    if (batches && batch.maxEntries() > smallest.max()) {
      ConfigTree b = root.at("batch");
      b.problem("max-entries", batch.maxEntries() + (b.isSet("max-entries") ? "" : ", the default,") + " is more than " + limit
          + ": one batch of reads could take a principal over it (expected: at most " + smallest.max() + ")");
    }
  }

  /**
   * A page is "full" when it holds as many matches as the {@code _count} fhirwall forwarded, and a full
   * page always links to a next one (respond.FullPages): the link then tells nothing of unseen matches.
   * An EPR that cuts a page shorter than that {@code _count} breaks the rule, so a role may not forward
   * more than the EPR's page ({@code upstream.max-page-size}, when the deployment says it).
   */
  private void checkPagesAreTheEprs(ConfigTree root, Set<Interaction> interactions, SearchRules search) {
    boolean searches = interactions.stream().anyMatch(Interaction::isSearch)
        || interactions.contains(Interaction.BATCH) || interactions.contains(Interaction.TRANSACTION);
    if (eprMaxPageSize != null && searches && search.maxCount() > eprMaxPageSize) {
      ConfigTree s = root.at("search");
      s.problem("max-count", search.maxCount() + (s.isSet("max-count") ? "" : ", the default,")
          + " is more than the EPR's largest page (upstream.max-page-size " + eprMaxPageSize + "): a page the EPR cuts "
          + "shorter than the _count fhirwall forwards would tell, by its next link, whether more records match "
          + "(expected: at most " + eprMaxPageSize + ")");
    }
  }

  private SearchRules search(ConfigTree s) {
    Set<String> targets = new LinkedHashSet<>();
    List<String> includes = s.strings("include");
    for (int i = 0; i < includes.size(); i++) {
      Matcher m = INCLUDE.matcher(includes.get(i));
      if (!m.matches()) {
        continue; // the schema's pattern has refused it
      }
      String bad = !knownResourceTypes.contains(m.group(1)) ? m.group(1)
          : m.group(3) != null && !knownResourceTypes.contains(m.group(3)) ? m.group(3) : null;
      if (bad != null) {
        s.problemAt("include", i, includes.get(i) + " (" + typeHint(bad) + ")");
      } else {
        targets.add(includes.get(i));
      }
    }
    Map<String, Set<String>> parameters = new LinkedHashMap<>();
    ConfigTree p = s.at("parameters");
    for (String type : p.keys()) {
      if (!type.equals(SearchRules.ANY) && !knownResourceTypes.contains(type)) {
        p.problem(type, "not a resource type (" + typeHint(type) + ")");
        continue;
      }
      Set<String> names = new LinkedHashSet<>();
      List<String> listed = p.strings(type);
      for (int i = 0; i < listed.size(); i++) {
        String n = listed.get(i);
        if (n.equals("_has")) {
          p.problemAt(type, i, n + " (expected: not listed; reverse chains are allowed by search.has: true)");
        } else if (SearchRules.isControlParameter(n)) {
          p.problemAt(type, i, n + " (expected: a search criterion; result parameters such as " + n
              + " are governed by other search keys)");
        } else {
          names.add(n);
        }
      }
      parameters.put(type, names);
    }
    Set<String> modifiers = new LinkedHashSet<>();
    s.strings("modifiers").forEach(m -> modifiers.add(m.startsWith(":") ? m.substring(1) : m));
    return new SearchRules(s.integer("max-count"), s.integer("max-pages"),
        s.text("unselective").equals("cap") ? SearchRules.Unselective.CAP : SearchRules.Unselective.REFUSE,
        new SearchRules.IncludeRules(targets, s.bool("include-wildcard"), s.bool("include-iterate")), parameters, modifiers,
        s.integer("max-or-values"), s.bool("chains"), s.bool("has"), s.bool("require-patient-criterion"));
  }

  private static EnumerationRules enumeration(ConfigTree e) {
    boolean lock = e.text("action").equals("lock");
    if (!lock && e.isSet("lock-for")) {
      e.problem("lock-for", e.text("lock-for") + " while action is alert (expected: action: lock, or no lock-for)");
    }
    return new EnumerationRules(e.integer("max-not-found"), e.duration("window"),
        lock ? EnumerationRules.Action.LOCK : EnumerationRules.Action.ALERT, lock ? e.duration("lock-for") : null);
  }

  private static AuthenticationStrength strength(ConfigTree a) {
    AuthenticationStrength s = new AuthenticationStrength(new HashSet<>(a.strings("acr")), new HashSet<>(a.strings("amr")),
        new HashSet<>(a.strings("amr-any-of")), a.optionalDuration("max-age"));
    String bound = a.optionalText("sender-constrained");
    return bound == null ? s : s.withSenderConstraint(SenderConstraint.parse(bound));
  }

  private static List<PatientWindow> windows(ConfigTree parent, String key) {
    List<PatientWindow> out = new ArrayList<>();
    Map<Duration, Integer> seen = new HashMap<>();
    for (ConfigTree w : parent.sections(key)) {
      Duration length = w.duration("window");
      PatientWindow window = PatientWindow.of(length, w.integer("max"));
      if (seen.put(length, window.max()) != null) {
        w.problem("window", window.name() + " listed twice (expected: one limit per window length)");
      } else {
        out.add(window);
      }
    }
    out.sort(Comparator.comparing(PatientWindow::length));
    return out;
  }

  private static void checkTogether(List<RolePolicy> roles, Map<String, Locations> where, Problems problems) {
    Map<String, RolePolicy> byName = new HashMap<>();
    for (RolePolicy r : roles) {
      RolePolicy other = byName.putIfAbsent(r.name(), r);
      if (other != null) {
        problems.add(at(where, r, "/role"), "role", r.name() + " (expected: a name not already used by " + other.source() + ")");
      }
    }
    for (int i = 0; i < roles.size(); i++) {
      for (int j = i + 1; j < roles.size(); j++) {
        RolePolicy a = roles.get(i);
        RolePolicy b = roles.get(j);
        if (a.priority() == b.priority() && a.principalKind() == b.principalKind()) {
          Set<String> shared = new HashSet<>(a.roles());
          shared.retainAll(b.roles());
          if (!shared.isEmpty()) {
            problems.add(at(where, b, "/priority"), "priority", "policies " + a.name() + " and " + b.name()
                + " both govern token role(s) " + shared + " at priority " + a.priority()
                + " (expected: different priorities, so one wins)");
          }
        }
      }
    }
  }

  private static Location at(Map<String, Locations> where, RolePolicy r, String pointer) {
    Locations l = where.get(r.source());
    return l == null ? Location.wholeFile(r.source()) : l.ofValue(pointer);
  }

  private String typeHint(String t) {
    return knownResourceTypes.stream().filter(k -> k.equalsIgnoreCase(t)).findFirst()
        .map(k -> "did you mean " + k + "?").orElse("expected: an R4 resource type, exact case");
  }

  private static String withoutDollar(String op) {
    return op.startsWith("$") ? op.substring(1) : op;
  }
}
