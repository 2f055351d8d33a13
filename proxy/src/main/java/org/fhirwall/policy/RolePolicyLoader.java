package org.fhirwall.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * Reads role policy files (one role per YAML file) into a {@link PolicySet}, reporting every
 * problem with file, line and key. Every key, its default and its meaning are documented in
 * {@code docs/policy-rules.md} and {@code policies/schema.json}; a key left out gets its default
 * (some differ between user and service roles).
 */
public final class RolePolicyLoader {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  private static final Pattern OPERATION = Pattern.compile("[a-z][a-zA-Z0-9-]{0,63}");
  private static final Duration MAX_WINDOW = Duration.ofDays(366);
  private static final Pattern INCLUDE = Pattern.compile("([A-Z][A-Za-z]+):([a-z_][a-zA-Z0-9_-]*)(?::([A-Z][A-Za-z]+))?");
  private static final Pattern PARAMETER = Pattern.compile("_?[a-z][a-zA-Z0-9_-]{0,63}");
  private static final Set<String> CONTROL_PARAMETERS = SearchCheck.CONTROL_PARAMETERS;

  private final Set<String> knownResourceTypes;

  /** @param knownResourceTypes the resource types of the FHIR version in use (exact case) */
  public RolePolicyLoader(Set<String> knownResourceTypes) {
    this.knownResourceTypes = Set.copyOf(knownResourceTypes);
  }

  /** Loads every {@code *.yaml}/{@code *.yml} file directly in {@code dir}. */
  public PolicySet loadDirectory(Path dir) throws ConfigException {
    Problems problems = new Problems();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(RolePolicyLoader::isYaml).sorted().forEach(files::add);
    } catch (IOException e) {
      problems.add(dir.toString(), 0, "", "cannot list policy directory: " + e.getMessage());
      problems.throwIfAny();
    }
    if (files.isEmpty()) {
      problems.add(dir.toString(), 0, "", "no role policy files (expected: *.yaml files, one role each)");
    }
    List<RolePolicy> roles = new ArrayList<>();
    for (Path f : files) {
      RolePolicy r = loadFile(f, problems);
      if (r != null) {
        roles.add(r);
      }
    }
    checkTogether(roles, problems);
    problems.throwIfAny();
    return new PolicySet(roles);
  }

  /** Loads a set of files as one policy set (used by {@code validate}). */
  public PolicySet loadFiles(List<Path> files) throws ConfigException {
    Problems problems = new Problems();
    List<RolePolicy> roles = new ArrayList<>();
    for (Path f : files) {
      RolePolicy r = loadFile(f, problems);
      if (r != null) {
        roles.add(r);
      }
    }
    checkTogether(roles, problems);
    problems.throwIfAny();
    return new PolicySet(roles);
  }

  static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".yaml") || n.endsWith(".yml"));
  }

  private @Nullable RolePolicy loadFile(Path file, Problems problems) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      problems.add(file.toString(), 0, "", "cannot read: " + e.getMessage());
      return null;
    }
    return parse(file.toString(), text, problems);
  }

  /** Parses one role policy document; null when it has problems (recorded in {@code problems}). */
  @Nullable RolePolicy parse(String file, String text, Problems problems) {
    YamlSection root = YamlSection.parse(file, text, problems);
    if (root == null) {
      return null;
    }
    int before = problems.all().size();

    String name = root.requiredString("role");
    if (name != null && !NAME.matcher(name).matches()) {
      root.problem("role", name + " (expected: lower-case letters, digits and '-', starting with a letter)");
    }
    String description = root.string("description", "");
    Set<String> tokenRoles = Set.of();
    Principal.Kind kind = Principal.Kind.USER;
    YamlSection appliesTo = root.section("applies-to");
    if (appliesTo == null) {
      if (!root.has("applies-to")) {
        root.problem("applies-to", "missing (required: the token roles this policy governs)");
      }
    } else {
      tokenRoles = new LinkedHashSet<>(appliesTo.strings("roles"));
      if (tokenRoles.isEmpty()) {
        appliesTo.problem("roles", "missing or empty (expected: at least one token role)");
      }
      kind = appliesTo.oneOf("principal", "user", "user", "service").equals("user")
          ? Principal.Kind.USER : Principal.Kind.SERVICE;
      appliesTo.finish();
    }
    int priority = root.integer("priority", 0, -1000, 1000);
    Mode mode = root.oneOf("mode", "enforce", "enforce", "report-only").equals("enforce") ? Mode.ENFORCE : Mode.REPORT_ONLY;

    AuthenticationStrength authentication = strength(root.section("authentication"));
    if (kind == Principal.Kind.USER && !root.has("authentication")) {
      root.problem("authentication", "missing (required for user roles: the MFA evidence this role needs, e.g. amr: [otp])");
    } else if (kind == Principal.Kind.USER && authentication.acceptedAcr().isEmpty()
        && authentication.requiredAmr().isEmpty() && authentication.anyAmr().isEmpty()) {
      root.problem("authentication", "requires no MFA evidence (expected: acr and/or amr for a user role)");
    }

    Set<Interaction> interactions = interactions(root);
    Set<String> resourceTypes = resourceTypes(root);
    Set<String> operations = operations(root);
    List<PatientWindow> limits = windows(root, "patient-limits", true);

    RolePolicy.AtLimit atLimit = RolePolicy.AtLimit.REFUSE_ONLY;
    YamlSection at = root.section("at-limit");
    if (at != null) {
      String action = at.oneOf("action", "refuse", "refuse", "lock");
      Duration lockFor = at.duration("lock-for", null);
      if (action.equals("lock") && lockFor == null) {
        at.problem("lock-for", "missing (required when action is lock, e.g. 24h)");
      }
      if (action.equals("refuse") && lockFor != null) {
        at.problem("lock-for", "set while action is refuse (expected: action: lock)");
      }
      boolean alert = at.bool("alert", false);
      at.finish();
      atLimit = new RolePolicy.AtLimit(action.equals("lock") ? lockFor : null, alert);
    }

    RolePolicy.BreakGlass breakGlass = RolePolicy.BreakGlass.DISABLED;
    YamlSection bg = root.section("break-glass");
    if (bg != null) {
      List<PatientWindow> bgLimits = windows(bg, "patient-limits", true);
      AuthenticationStrength bgStrength = strength(bg.section("authentication"));
      if (kind == Principal.Kind.USER && bgStrength.maxAge() == null) {
        bg.problem("authentication", "missing max-age (expected: break-glass needs a recent MFA, e.g. max-age: 15m)");
      }
      bg.finish();
      if (!bgLimits.isEmpty()) {
        breakGlass = new RolePolicy.BreakGlass(true, bgLimits, bgStrength);
      }
    }

    if (kind == Principal.Kind.USER && operations.contains("export")) {
      root.problem("operations", "export (expected: not listed for a user role; bulk export needs Prefer: respond-async, "
          + "which interactive users never get; give it to a service role: applies-to.principal: service)");
    }

    SearchRules search = search(root.section("search"), kind);
    BatchRules batch = BatchRules.DEFAULTS;
    YamlSection b = root.section("batch");
    if (b != null) {
      batch = new BatchRules(b.integer("max-entries", BatchRules.DEFAULT_MAX_ENTRIES, 1, 10_000));
      b.finish();
    }
    Map<String, AuthenticationStrength> operationAuthentication = new java.util.LinkedHashMap<>();
    YamlSection oa = root.section("operation-authentication");
    if (oa != null) {
      for (String op : oa.keys()) {
        String opName = op.startsWith("$") ? op.substring(1) : op;
        AuthenticationStrength st = strength(oa.section(op));
        if (!operations.contains(opName)) {
          oa.problem(op, "not in operations (expected: an operation this role may use)");
        } else if (st.requiresNothing()) {
          oa.problem(op, "asks for nothing (expected: acr, amr, amr-any-of or max-age)");
        }
        operationAuthentication.put(opName, st);
      }
      oa.finish();
    }
    RateRules rate = rate(root.section("rate"), kind);
    EnumerationRules enumeration = enumeration(root.section("enumeration"), kind);

    root.finish();
    if (problems.all().size() > before || name == null || limits.isEmpty()) {
      return null;
    }
    return new RolePolicy(name, file, description, tokenRoles, kind, priority, mode, authentication,
        interactions, resourceTypes, operations, limits, atLimit, breakGlass, search, batch, rate, enumeration,
        operationAuthentication);
  }

  private SearchRules search(@Nullable YamlSection s, Principal.Kind kind) {
    SearchRules d = SearchRules.defaults(kind);
    if (s == null) {
      return d;
    }
    int maxCount = s.integer("max-count", d.maxCount(), 1, 10_000);
    int maxPages = s.integer("max-pages", d.maxPages(), 1, 100_000);
    String unselectiveCode = s.oneOf("unselective", d.unselective().code(), "refuse", "cap");
    SearchRules.Unselective unselective = unselectiveCode.equals("cap") ? SearchRules.Unselective.CAP : SearchRules.Unselective.REFUSE;
    Set<String> targets = includeTargets(s);
    boolean wildcard = s.bool("include-wildcard", d.include().wildcard());
    boolean iterate = s.bool("include-iterate", d.include().iterate());
    Map<String, Set<String>> parameters = s.has("parameters") ? parameters(s) : d.parameters();
    Set<String> modifiers = s.has("modifiers") ? modifiers(s) : d.modifiers();
    int maxOrValues = s.integer("max-or-values", d.maxOrValues(), 1, 1_000);
    boolean chains = s.bool("chains", d.chains());
    boolean has = s.bool("has", d.has());
    boolean patientCriterion = s.bool("require-patient-criterion", d.requirePatientCriterion());
    s.finish();
    return new SearchRules(maxCount, maxPages, unselective, new SearchRules.IncludeRules(targets, wildcard, iterate),
        parameters, modifiers, maxOrValues, chains, has, patientCriterion);
  }

  private Set<String> includeTargets(YamlSection s) {
    Set<String> out = new LinkedHashSet<>();
    for (YamlSection.Item item : s.items("include")) {
      String v = item.value();
      if (v.contains(SearchRules.ANY)) {
        s.problemAt(item.line(), "include", v + " (expected: no wildcard here; set include-wildcard: true to allow *)");
        continue;
      }
      if (v.contains(":iterate") || v.contains(":recurse")) {
        s.problemAt(item.line(), "include", v + " (expected: the target only; set include-iterate: true to allow :iterate)");
        continue;
      }
      Matcher m = INCLUDE.matcher(v);
      if (!m.matches()) {
        s.problemAt(item.line(), "include", v + " (expected: SourceType:parameter or SourceType:parameter:TargetType, "
            + "e.g. Observation:subject)");
        continue;
      }
      String bad = !knownResourceTypes.contains(m.group(1)) ? m.group(1)
          : m.group(3) != null && !knownResourceTypes.contains(m.group(3)) ? m.group(3) : null;
      if (bad != null) {
        s.problemAt(item.line(), "include", v + " (" + typeHint(bad) + ")");
        continue;
      }
      out.add(v);
    }
    return out;
  }

  private Map<String, Set<String>> parameters(YamlSection s) {
    YamlSection p = s.section("parameters");
    Map<String, Set<String>> out = new LinkedHashMap<>();
    if (p == null) {
      return out;
    }
    for (String type : p.keys()) {
      if (!type.equals(SearchRules.ANY) && !knownResourceTypes.contains(type)) {
        p.problem(type, "not a resource type (" + typeHint(type) + ")");
        p.strings(type);
        continue;
      }
      Set<String> names = new LinkedHashSet<>();
      for (YamlSection.Item item : p.items(type)) {
        String n = item.value();
        if (n.equals("_has")) {
          p.problemAt(item.line(), type, n + " (expected: not listed; reverse chains are allowed by search.has: true)");
        } else if (CONTROL_PARAMETERS.contains(n)) {
          p.problemAt(item.line(), type, n + " (expected: a search criterion; result parameters such as " + n
              + " are governed by other search keys)");
        } else if (n.indexOf(':') >= 0 || n.indexOf('.') >= 0) {
          p.problemAt(item.line(), type, n + " (expected: the parameter name alone; modifiers go in search.modifiers, "
              + "chains are allowed by search.chains)");
        } else if (n.equals(SearchRules.ANY) || PARAMETER.matcher(n).matches()) {
          names.add(n);
        } else {
          p.problemAt(item.line(), type, n + " (expected: a search parameter name such as code or birthdate, or \"*\")");
        }
      }
      out.put(type, names);
    }
    p.finish();
    return out;
  }

  private static Set<String> modifiers(YamlSection s) {
    Set<String> out = new LinkedHashSet<>();
    for (YamlSection.Item item : s.items("modifiers")) {
      String m = item.value().startsWith(":") ? item.value().substring(1) : item.value();
      if (m.equals("iterate") || m.equals("recurse")) {
        s.problemAt(item.line(), "modifiers", item.value() + " (expected: not listed; :iterate is allowed by search.include-iterate)");
      } else if (!m.isEmpty() && Character.isUpperCase(m.charAt(0))) {
        s.problemAt(item.line(), "modifiers", item.value() + " (expected: not listed; a resource-type modifier such as "
            + "subject:Patient is always allowed)");
      } else if (SearchRules.KNOWN_MODIFIERS.contains(m)) {
        out.add(m);
      } else {
        s.problemAt(item.line(), "modifiers", item.value() + " (expected one of: "
            + String.join(", ", SearchRules.KNOWN_MODIFIERS.stream().sorted().toList()) + ")");
      }
    }
    return out;
  }

  private static RateRules rate(@Nullable YamlSection r, Principal.Kind kind) {
    RateRules d = RateRules.defaults(kind);
    if (r == null) {
      return d;
    }
    double perSecond = r.decimal("requests-per-second", d.requestsPerSecond(), 0, true, 100_000);
    int burst = r.integer("burst", d.burst(), 1, 1_000_000);
    int concurrent = r.integer("concurrent", d.concurrent(), 1, 10_000);
    r.finish();
    return new RateRules(perSecond, burst, concurrent);
  }

  private static EnumerationRules enumeration(@Nullable YamlSection e, Principal.Kind kind) {
    EnumerationRules d = EnumerationRules.defaults(kind);
    if (e == null) {
      return d;
    }
    int maxNotFound = e.integer("max-not-found", d.maxNotFound(), 1, 1_000_000);
    Duration window = e.duration("window", d.window());
    if (window != null && window.compareTo(MAX_WINDOW) > 0) {
      e.problem("window", window + " (expected: at most 366d)");
      window = d.window();
    }
    String action = e.oneOf("action", d.action().code(), "lock", "alert");
    Duration lockFor = e.duration("lock-for", null);
    if (action.equals("alert") && lockFor != null) {
      e.problem("lock-for", "set while action is alert (expected: action: lock)");
    }
    e.finish();
    boolean lock = action.equals("lock");
    return new EnumerationRules(maxNotFound, window == null ? d.window() : window,
        lock ? EnumerationRules.Action.LOCK : EnumerationRules.Action.ALERT,
        lock ? (lockFor != null ? lockFor : EnumerationRules.DEFAULT_LOCK_FOR) : null);
  }

  private String typeHint(String t) {
    return knownResourceTypes.stream().filter(k -> k.equalsIgnoreCase(t)).findFirst()
        .map(k -> "did you mean " + k + "?").orElse("expected: an R4 resource type, exact case");
  }

  private static AuthenticationStrength strength(@Nullable YamlSection a) {
    if (a == null) {
      return AuthenticationStrength.NONE;
    }
    Set<String> acr = new HashSet<>(a.strings("acr"));
    Set<String> amr = new HashSet<>(a.strings("amr"));
    Set<String> anyAmr = new HashSet<>(a.strings("amr-any-of"));
    Duration maxAge = a.duration("max-age", null);
    a.finish();
    return new AuthenticationStrength(acr, amr, anyAmr, maxAge);
  }

  private static Set<Interaction> interactions(YamlSection root) {
    List<String> codes = root.strings("interactions");
    if (codes.isEmpty()) {
      root.problem("interactions", "missing or empty (expected: a list such as [read, search-type])");
    }
    Set<Interaction> out = new LinkedHashSet<>();
    for (String c : codes) {
      if (c.equals("page")) {
        root.problem("interactions", "page (expected: not listed; following paging links is allowed wherever the search was)");
        continue;
      }
      Interaction.fromCode(c).filter(i -> i.code().equals(c)).ifPresentOrElse(out::add, () -> root.problem("interactions",
          c + " (expected one of: " + String.join(", ", Stream.of(Interaction.values())
              .filter(i -> i != Interaction.PAGE).map(Interaction::code).toList()) + ")"));
    }
    return out;
  }

  private Set<String> resourceTypes(YamlSection root) {
    List<String> types = root.strings("resource-types");
    if (types.isEmpty()) {
      root.problem("resource-types", "missing or empty (expected: a list of resource types, or [\"*\"])");
    }
    Set<String> out = new LinkedHashSet<>();
    for (String t : types) {
      if (t.equals(RolePolicy.ANY_TYPE) || knownResourceTypes.contains(t)) {
        out.add(t);
      } else {
        String hint = knownResourceTypes.stream().filter(k -> k.equalsIgnoreCase(t)).findFirst()
            .map(k -> " (did you mean " + k + "?)").orElse(" (expected: an R4 resource type, exact case, or *)");
        root.problem("resource-types", t + hint);
      }
    }
    return out;
  }

  private static Set<String> operations(YamlSection root) {
    Set<String> out = new LinkedHashSet<>();
    for (String op : root.strings("operations")) {
      String name = op.startsWith("$") ? op.substring(1) : op;
      if (OPERATION.matcher(name).matches()) {
        out.add(name);
      } else {
        root.problem("operations", op + " (expected: an operation name such as everything or $everything)");
      }
    }
    return out;
  }

  static List<PatientWindow> windows(YamlSection parent, String key, boolean required) {
    List<YamlSection> items = parent.sections(key);
    if (items.isEmpty() && required) {
      parent.problem(key, "missing or empty (expected: at least one window, e.g. - {window: 24h, max: 150})");
    }
    List<PatientWindow> out = new ArrayList<>();
    Map<Duration, Integer> seen = new HashMap<>();
    for (YamlSection w : items) {
      Duration length = w.duration("window", null);
      if (length == null && !w.has("window")) {
        w.problem("window", "missing (required, e.g. 1h or 24h)");
      } else if (length != null && length.compareTo(MAX_WINDOW) > 0) {
        w.problem("window", length + " (expected: at most 366d)");
        length = null;
      }
      int max = w.integer("max", -1, 1, 10_000_000);
      if (max < 0 && !w.has("max")) {
        w.problem("max", "missing (required: the most distinct patients in the window)");
      }
      w.finish();
      if (length != null && max > 0) {
        if (seen.put(length, max) != null) {
          w.problem("window", PatientWindow.of(length, max).name() + " listed twice");
        } else {
          out.add(PatientWindow.of(length, max));
        }
      }
    }
    out.sort((a, b) -> a.length().compareTo(b.length()));
    return out;
  }

  private static void checkTogether(List<RolePolicy> roles, Problems problems) {
    Map<String, RolePolicy> byName = new HashMap<>();
    for (RolePolicy r : roles) {
      RolePolicy other = byName.putIfAbsent(r.name(), r);
      if (other != null) {
        problems.add(r.source(), 0, "role", r.name() + " is also defined in " + other.source());
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
            problems.add(b.source(), 0, "priority", "policies " + a.name() + " and " + b.name()
                + " both govern token role(s) " + shared + " at priority " + a.priority()
                + " (expected: different priorities, so one wins)");
          }
        }
      }
    }
  }

  /** The names of every known interaction code, for messages and the schema test. */
  static List<String> interactionCodes() {
    return Stream.of(Interaction.values()).filter(i -> i != Interaction.PAGE).map(Interaction::code).toList();
  }
}
