package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.fhirwall.auth.AuthSettings;
import org.fhirwall.auth.DpopSettings;
import org.jspecify.annotations.Nullable;

/**
 * Reads the deployment file: the one place deployment configuration comes from. Each key's value
 * is, by precedence, the {@code serve} flag that sets it, else the environment variable named
 * after it, else the file, else the schema's default:
 *
 * <ul>
 *   <li>environment variables are named {@code FHIRWALL_} + the key path in upper case, {@code .}
 *       and {@code -} written {@code _}: {@code upstream.url} is {@code FHIRWALL_UPSTREAM_URL},
 *       {@code identity.clock-skew} is {@code FHIRWALL_IDENTITY_CLOCK_SKEW}; a list is given
 *       comma-separated. Every key holding a value or a list of values can be set this way (the
 *       free-form {@code upstream.headers} cannot);
 *   <li>flags are the schema's {@code x-flag}s ({@code --listen}, {@code --upstream}, ...);
 *   <li>{@code ${NAME}} in any value of the file is replaced from the environment before the
 *       value is typed, so numbers, booleans and lists can come from variables; an unset variable
 *       is an error, never an empty value.
 * </ul>
 *
 * The merged tree is validated against {@code deployment.schema.json}; only what a schema cannot
 * say is checked here (ports in range, the admin port apart from the public one, files that must
 * exist, a secret given one way or the other). Paths in the file are relative to the file; paths
 * from flags and variables to the working directory.
 */
public final class DeploymentLoader {
  private static final String REDIS_FLAG = "--redis";

  /** Values given as {@code serve} flags, by flag name ({@code --listen}); they win over everything else. */
  public record Overrides(Map<String, String> flags) {
    public static final Overrides NONE = new Overrides(Map.of());

    public Overrides {
      flags = Map.copyOf(flags);
      flags.keySet().forEach(Schema.DEPLOYMENT::keyOfFlag);
    }

    /** The flags that were given (null values, flags left out, are dropped). */
    public static Overrides of(Map<String, @Nullable String> given) {
      Map<String, String> out = new LinkedHashMap<>();
      given.forEach((flag, value) -> {
        if (value != null) {
          out.put(flag, value);
        }
      });
      return new Overrides(out);
    }
  }

  private final UnaryOperator<@Nullable String> environment;

  /** @param environment looks up an environment variable, null when unset (e.g. {@code System::getenv}) */
  public DeploymentLoader(UnaryOperator<@Nullable String> environment) {
    this.environment = requireNonNull(environment, "environment");
  }

  /**
   * Loads {@code file} (null: no file; every required key then comes from flags or variables).
   *
   * @throws ConfigException with every problem found, each naming its file, line, column and key
   */
  public DeploymentConfig load(@Nullable Path file, Overrides overrides) throws ConfigException {
    Problems problems = new Problems();
    String name = file == null ? "(no deployment file)" : file.toString();
    Locations where = new Locations(Location.wholeFile(name));
    ObjectNode tree = JsonNodeFactory.instance.objectNode();
    if (file != null) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        problems.add(Location.wholeFile(name), "", "cannot read: " + e.getMessage());
        throw new ConfigException(problems.all());
      }
      tree = YamlDocument.read(name, text, Schema.DEPLOYMENT, environment, where, problems);
      if (tree == null) {
        throw new ConfigException(problems.all());
      }
    }
    applyOverrides(tree, overrides, where);
    Schema.DEPLOYMENT.validate(tree, where, problems);
    Schema.DEPLOYMENT.checkBounds(tree, where, problems);
    problems.throwIfAny();
    ObjectNode full = tree.deepCopy();
    Schema.DEPLOYMENT.applyDefaults(full, null);
    Path dir = file == null ? Path.of("").toAbsolutePath() : file.toAbsolutePath().getParent();
    DeploymentConfig config = bind(new ConfigTree(full, tree, where, problems), dir, problems);
    problems.throwIfAny();
    return requireNonNull(config, "config");
  }

  /** Environment variables, then flags, over the file: the later one wins. */
  private void applyOverrides(ObjectNode tree, Overrides overrides, Locations where) {
    Schema schema = Schema.DEPLOYMENT;
    String prefix = requireNonNull(schema.envPrefix(), "x-env-prefix");
    for (Schema.Key key : schema.scalarKeys()) {
      String variable = Schema.envName(prefix, key.path());
      String value = environment.apply(variable);
      if (value != null) {
        set(tree, key.path(), schema.override(value, key.schema()), Location.environment(variable), where);
      }
    }
    overrides.flags().forEach((flag, value) -> {
      Schema.Key key = schema.keyOfFlag(flag);
      set(tree, key.path(), schema.override(value, key.schema()), Location.flag(flag), where);
    });
    if (overrides.flags().containsKey(REDIS_FLAG)) {
      // --redis URL is the whole switch to the shared store: the URL and the store that uses it.
      set(tree, List.of("quota", "store"), JsonNodeFactory.instance.textNode("redis"), Location.flag(REDIS_FLAG), where);
    }
  }

  private static void set(ObjectNode tree, List<String> path, JsonNode value, Location from, Locations where) {
    ObjectNode parent = tree;
    String pointer = "";
    for (String name : path.subList(0, path.size() - 1)) {
      pointer = Locations.child(pointer, name);
      JsonNode child = parent.get(name);
      if (child == null) {
        child = parent.putObject(name);
        where.value(pointer, from);
      } else if (!child.isObject()) {
        return; // the file's own value is wrong; the schema says so
      }
      parent = (ObjectNode) child;
    }
    String last = path.get(path.size() - 1);
    pointer = Locations.child(pointer, last);
    parent.set(last, value);
    where.key(pointer, from);
    where.value(pointer, from);
    for (int i = 0; i < value.size(); i++) {
      where.value(Locations.child(pointer, i), from);
    }
  }

  private @Nullable DeploymentConfig bind(ConfigTree root, Path dir, Problems problems) {
    DeploymentConfig.HostPort listen = hostPort(root, "listen");
    String host = listen.host().equals("0.0.0.0") ? "127.0.0.1" : listen.host().contains(":") ? "[" + listen.host() + "]" : listen.host();
    URI publicBaseUrl = root.has("public-base-url") ? url(root, "public-base-url")
        : URI.create("http://" + host + ":" + listen.port() + "/fhir");

    DeploymentConfig.Tls tls = null;
    ConfigTree t = root.optional("tls");
    if (t != null) {
      tls = new DeploymentConfig.Tls(existingFile(t, "certificate", dir), existingFile(t, "private-key", dir),
          t.has("client-ca") ? existingFile(t, "client-ca", dir) : null);
    }

    ConfigTree u = root.at("upstream");
    ConfigTree cb = u.at("circuit-breaker");
    Map<String, String> headers = new LinkedHashMap<>();
    ConfigTree h = u.at("headers");
    h.keys().forEach(k -> headers.put(k, h.text(k)));
    ConfigTree pp = u.at("per-principal");
    int maxConcurrent = u.integer("max-concurrent");
    int share = pp.has("max-concurrent") ? pp.integer("max-concurrent") : Math.max(1, maxConcurrent / 4);
    if (share > maxConcurrent) {
      pp.problem("max-concurrent", share + " (expected: at most upstream.max-concurrent, " + maxConcurrent + ")");
    }
    DeploymentConfig.Upstream upstream = new DeploymentConfig.Upstream(url(u, "url"), u.duration("connect-timeout"),
        u.duration("response-timeout"), u.integer("max-connections-per-loop"), maxConcurrent,
        u.has("max-page-size") ? u.integer("max-page-size") : null, upstreamTls(u, dir),
        new DeploymentConfig.PerPrincipal(share, pp.integer("max-failures"), pp.duration("failure-window"),
            pp.duration("throttle-for")),
        new DeploymentConfig.CircuitBreaker(cb.integer("failure-rate"), cb.integer("minimum-calls"), cb.duration("slow-call"),
            cb.duration("open-for")),
        headers);

    ConfigTree i = root.at("identity");
    AuthSettings identity = identity(i, dir, problems);

    Path policies = root.path("policies", dir);
    if (policies != null && !Files.isDirectory(policies)) {
      root.problem("policies", policies + " (expected: an existing directory of role policy files)");
    }

    ConfigTree l = root.at("limits");
    DeploymentConfig.Limits limits = new DeploymentConfig.Limits((int) l.bytes("max-request-body"), l.bytes("max-response-body"),
        (int) l.bytes("max-initial-line"), (int) l.bytes("max-header-size"), l.integer("max-headers"),
        l.duration("request-timeout"), l.duration("idle-timeout"), l.integer("max-connections"), l.duration("shutdown-grace"));

    DeploymentConfig.Quota quota = quota(root.at("quota"), dir);

    DeploymentConfig.Audit audit = audit(root.at("audit"), dir);

    ConfigTree al = root.at("alerts");
    ConfigTree burst = al.at("refusal-burst");
    DeploymentConfig.Alerts alerts = new DeploymentConfig.Alerts(al.has("webhook") ? url(al, "webhook") : null,
        al.has("secret-file") ? existingFile(al, "secret-file", dir) : null, al.integer("retries"), al.duration("first-retry"),
        burst.integer("max"), burst.duration("window"));

    ConfigTree ad = root.at("admin");
    DeploymentConfig.Admin admin = null;
    if (ad.bool("enabled")) {
      DeploymentConfig.HostPort adminListen = hostPort(ad, "listen");
      if (adminListen.port() != 0 && adminListen.port() == listen.port() && adminListen.host().equals(listen.host())) {
        ad.problem("listen", adminListen + " (expected: a port other than the public one, " + listen + ")");
      }
      Path tokens = ad.has("token-file") ? existingFile(ad, "token-file", dir) : null;
      if (tokens == null && !isLoopback(adminListen.host())) {
        ad.problem("listen", adminListen + " without admin.token-file (expected: a loopback address, or operator tokens: "
            + "the lock API may not be reachable beyond this host without a credential)");
      }
      admin = new DeploymentConfig.Admin(adminListen, tokens, ad.strings("hosts"));
    }

    ConfigTree p = root.at("paging");
    DeploymentConfig.Paging paging = new DeploymentConfig.Paging(p.path("secret-file", dir), p.duration("link-ttl"));
    if (paging.secretFile() != null && !Files.isReadable(paging.secretFile())) {
      p.problem("secret-file", paging.secretFile() + " (expected: a readable file of at least 32 bytes)");
    }

    ConfigTree dp = i.at("dpop");
    DpopSettings dpop = new DpopSettings(dp.duration("proof-max-age"), dp.bool("nonces"), dp.duration("nonce-lifetime"));
    ConfigTree co = root.at("cors");
    DeploymentConfig.Cors cors = new DeploymentConfig.Cors(co.strings("allowed-origins"), co.duration("max-age"));

    if (!problems.isEmpty() || identity == null || policies == null) {
      return null;
    }
    return new DeploymentConfig(listen, publicBaseUrl, cors, tls, upstream, identity, dpop, Set.copyOf(i.strings("non-mfa-acr")),
        policies, new DeploymentConfig.PolicyReload(root.at("policy-reload").bool("allow-weakening")), limits, quota, audit, alerts,
        new DeploymentConfig.Logging(root.at("logging").bool("access")),
        new DeploymentConfig.Tracing(root.at("tracing").has("otlp-endpoint") ? url(root.at("tracing"), "otlp-endpoint") : null,
            root.at("tracing").text("service-name")),
        containment(root.at("containment"), dir),
        relationships(root.optional("relationships")),
        admin, paging, root.text("break-glass-header"));
  }

  private static DeploymentConfig.Audit audit(ConfigTree a, Path dir) {
    boolean stdout = a.bool("stdout");
    Path file = a.path("file", dir);
    if (file == null && !stdout) {
      file = dir.resolve("fhirwall-audit.jsonl");
    }
    ConfigTree c = a.at("checkpoint");
    byte[] key = null;
    Path keyFile = c.path("key-file", dir);
    if (keyFile != null) {
      try {
        key = Files.readAllBytes(keyFile);
        if (key.length < 32) {
          c.problem("key-file", keyFile + ": " + key.length + " bytes (expected: at least 32)");
        }
      } catch (IOException e) {
        c.problem("key-file", keyFile + " (expected: a readable file of at least 32 bytes): " + e.getMessage());
      }
    }
    ConfigTree r = a.at("rotate");
    ConfigTree sl = a.optional("syslog");
    DeploymentConfig.Syslog syslog = null;
    if (sl != null) {
      Path ca = sl.has("ca-file") ? existingFile(sl, "ca-file", dir) : null;
      syslog = new DeploymentConfig.Syslog(hostPort(sl, "address"), ca, sl.duration("timeout"));
    }
    ConfigTree fr = a.optional("fhir-repository");
    DeploymentConfig.Repository repository = null;
    if (fr != null) {
      String bearer = null;
      if (fr.has("token-file")) {
        Path tokenFile = existingFile(fr, "token-file", dir);
        try {
          bearer = tokenFile == null ? null : Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          fr.problem("token-file", tokenFile + " (expected: a readable file): " + e.getMessage());
        }
      }
      repository = new DeploymentConfig.Repository(url(fr, "url"), bearer, fr.duration("timeout"));
    }
    ConfigTree sp = a.at("spool");
    return new DeploymentConfig.Audit(file, stdout, syslog, repository, sp.path("dir", dir),
        sp.bytes("max-size"), a.integer("queue"), a.text("on-failure"), a.duration("fsync-interval"),
        r.bytes("max-size"), r.duration("every"), key, c.integer("every-records"), c.duration("every"));
  }

  private static DeploymentConfig.Quota quota(ConfigTree q, Path dir) {
    String store = q.text("store");
    ConfigTree r = q.at("redis");
    DeploymentConfig.Redis redis = null;
    if (store.equals("redis")) {
      String password = null;
      Path passwordFile = r.path("password-file", dir);
      if (passwordFile != null) {
        try {
          password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          r.problem("password-file", passwordFile + ": cannot read (" + e.getMessage() + ")");
        }
      }
      String url = r.optionalText("url");
      if (url == null) {
        q.problem("store", "redis without quota.redis.url (expected: the Redis URL, or store: local)");
        url = "redis://invalid";
      }
      redis = new DeploymentConfig.Redis(url, r.bool("cluster"), r.optionalText("username"), password,
          r.has("ca-file") ? existingFile(r, "ca-file", dir) : null, r.duration("timeout"), r.duration("replay"),
          r.duration("start-wait"), r.text("key-prefix"));
    }
    return new DeploymentConfig.Quota(store, q.integer("max-accounts"), q.path("state-dir", dir), q.text("on-store-failure"),
        q.integer("replicas"), redis);
  }

  private static DeploymentConfig.UpstreamTls upstreamTls(ConfigTree u, Path dir) {
    ConfigTree t = u.optional("tls");
    if (t == null) {
      return DeploymentConfig.UpstreamTls.DEFAULT;
    }
    if (t.has("certificate") != t.has("private-key")) {
      t.problem(t.has("certificate") ? "private-key" : "certificate",
          "missing (expected: a client certificate and its private key together)");
    }
    return new DeploymentConfig.UpstreamTls(t.has("ca") ? existingFile(t, "ca", dir) : null,
        t.has("certificate") ? existingFile(t, "certificate", dir) : null,
        t.has("private-key") ? existingFile(t, "private-key", dir) : null);
  }

  private static DeploymentConfig.Containment containment(ConfigTree c, Path dir) {
    boolean on = c.bool("end-idp-sessions");
    if (on && (!c.has("client-id") || !c.has("client-secret-file"))) {
      c.problem("end-idp-sessions", "true without client-id and client-secret-file (expected: fhirwall's service account "
          + "at the IdP, allowed to end user sessions)");
    }
    return new DeploymentConfig.Containment(on, c.has("client-id") ? c.text("client-id") : null,
        c.has("client-secret-file") ? existingFile(c, "client-secret-file", dir) : null,
        c.has("admin-url") ? url(c, "admin-url") : null);
  }

  private static org.fhirwall.care.@Nullable RelationshipSettings relationships(@Nullable ConfigTree r) {
    if (r == null) {
      return null;
    }
    java.util.Map<String, String> practitioners = new java.util.LinkedHashMap<>();
    ConfigTree map = r.at("practitioners");
    for (String subject : map.keys()) {
      practitioners.put(subject, map.text(subject));
    }
    List<org.fhirwall.care.RelationshipSettings.Search> searches = new java.util.ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (ConfigTree s : r.sections("searches")) {
      if (!names.add(s.text("name"))) {
        s.problem("name", s.text("name") + " listed twice (expected: one search per name)");
      }
      searches.add(new org.fhirwall.care.RelationshipSettings.Search(s.text("name"), s.text("query"), s.text("patient-element")));
    }
    if (!r.has("searches")) {
      searches = org.fhirwall.care.RelationshipSettings.DEFAULT_SEARCHES;
    }
    java.time.Duration ttl = r.duration("ttl");
    java.time.Duration maxAge = r.duration("max-age");
    if (maxAge.compareTo(ttl) < 0) {
      r.problem("max-age", maxAge + " is shorter than ttl " + ttl + " (expected: at least ttl)");
      maxAge = ttl;
    }
    return new org.fhirwall.care.RelationshipSettings(practitioners, r.bool("practitioner-from-fhir-user"), searches,
        r.text("locations-query"), ttl, maxAge, r.duration("timeout"), r.integer("max-pages"), r.integer("page-size"),
        r.duration("write-delay"), r.integer("max-principals"));
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
  }

  private static @Nullable AuthSettings identity(ConfigTree i, Path dir, Problems problems) {
    List<String> roleClaims = i.strings("role-claims");
    for (int n = 0; n < roleClaims.size(); n++) {
      String why = AuthSettings.claimPathProblem(roleClaims.get(n));
      if (why != null) {
        i.problemAt("role-claims", n, why);
      }
    }
    String usernameProblem = AuthSettings.claimPathProblem(i.text("username-claim"));
    if (usernameProblem != null) {
      i.problem("username-claim", usernameProblem);
    }
    if (i.duration("jwks-max-age").compareTo(i.duration("jwks-refresh-interval")) < 0) {
      i.problem("jwks-max-age", i.text("jwks-max-age") + " (expected: at least jwks-refresh-interval, "
          + i.text("jwks-refresh-interval") + ")");
    }
    AuthSettings.Introspection introspection = null;
    ConfigTree in = i.optional("introspection");
    if (in != null) {
      String secret = in.optionalText("client-secret");
      Path secretFile = in.path("client-secret-file", dir);
      if (secret == null && secretFile != null) {
        try {
          secret = Files.readString(secretFile, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
          in.problem("client-secret-file", secretFile + ": cannot read (" + e.getMessage() + ")");
        }
      } else if (secret == null) {
        in.problem("client-secret", "missing (expected: client-secret or client-secret-file)");
      }
      if (secret != null) {
        introspection = new AuthSettings.Introspection(in.has("endpoint") ? url(in, "endpoint") : null, in.text("client-id"),
            secret, in.duration("cache"));
      }
    }
    if (!problems.isEmpty()) {
      return null;
    }
    String issuer = i.text("issuer");
    return new AuthSettings(issuer, Set.copyOf(i.strings("audience")), Set.copyOf(i.strings("clients")), i.strings("algorithms"), i.duration("clock-skew"),
        i.has("discovery-url") ? url(i, "discovery-url") : AuthSettings.defaultDiscoveryUrl(issuer),
        i.has("jwks-uri") ? url(i, "jwks-uri") : null, roleClaims, i.text("username-claim"), introspection,
        i.duration("jwks-refresh-interval"), i.duration("jwks-max-age"), (int) i.bytes("max-token-size"));
  }

  private static DeploymentConfig.HostPort hostPort(ConfigTree s, String key) {
    String v = s.text(key);
    int colon = v.lastIndexOf(':');
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = Integer.parseInt(v.substring(colon + 1));
    if (port > 65535) {
      s.problem(key, v + " (expected: host:port with a port 0..65535)");
      port = 0;
    }
    return new DeploymentConfig.HostPort(host, port);
  }

  /** A URL the schema's pattern accepted that Java can also parse. */
  private static URI url(ConfigTree s, String key) {
    String v = s.text(key);
    try {
      return new URI(v);
    } catch (URISyntaxException e) {
      s.problem(key, v + " (expected: an http(s) URL: " + e.getReason() + ")");
      return URI.create("http://invalid.example");
    }
  }

  private static Path existingFile(ConfigTree s, String key, Path dir) {
    Path p = requireNonNull(s.path(key, dir), key);
    if (!Files.isReadable(p)) {
      s.problem(key, p + " (expected: a readable file)");
    }
    return p;
  }
}
