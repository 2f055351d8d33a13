package org.fhirwall.policy;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads the deployment file, applies command-line overrides, and validates the result. The one
 * place configuration is read: {@code ${NAME}} in a value is replaced from the environment
 * function given here (and nowhere else), secrets may also come from {@code *-file} keys.
 */
public final class DeploymentLoader {

  /** Settings given on the command line; they win over the file. */
  public record Overrides(
      @Nullable String listen,
      @Nullable String upstream,
      @Nullable String issuer,
      @Nullable String audience,
      @Nullable Path policies,
      @Nullable String publicBaseUrl) {
    public static final Overrides NONE = new Overrides(null, null, null, null, null, null);
  }

  static final List<String> DEFAULT_ALGORITHMS =
      List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
  static final Set<String> ALLOWED_ALGORITHMS = Set.copyOf(DEFAULT_ALGORITHMS);
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");

  private final UnaryOperator<@Nullable String> environment;

  /** @param environment looks up an environment variable, null when unset (e.g. {@code System::getenv}) */
  public DeploymentLoader(UnaryOperator<@Nullable String> environment) {
    this.environment = environment;
  }

  /**
   * Loads {@code file} (null: no file, every required setting comes from {@code overrides}).
   * Relative paths in the file are resolved against the file's directory.
   */
  public DeploymentConfig load(@Nullable Path file, Overrides overrides) throws ConfigException {
    Problems problems = new Problems();
    String name = file == null ? "(command line)" : file.toString();
    String text = "{}";
    if (file != null) {
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        problems.add(name, 0, "", "cannot read: " + e.getMessage());
        problems.throwIfAny();
      }
    }
    Path baseDir = file == null ? Path.of("").toAbsolutePath()
        : file.toAbsolutePath().getParent();
    YamlSection root = YamlSection.parse(name, text, problems);
    if (root == null) {
      problems.throwIfAny();
    }
    DeploymentConfig config = read(root, baseDir, overrides, problems);
    problems.throwIfAny();
    return config;
  }

  private String expand(YamlSection s, String key, @Nullable String value) {
    if (value == null) {
      return null;
    }
    Matcher m = ENV.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = environment.apply(m.group(1));
      if (v == null) {
        s.problem(key, "environment variable " + m.group(1) + " is not set");
        v = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private @Nullable String str(YamlSection s, String key) {
    return expand(s, key, s.string(key));
  }

  private DeploymentConfig read(YamlSection root, Path baseDir, Overrides o, Problems problems) {
    DeploymentConfig.HostPort listen = hostPort(root, "listen", o.listen(), "127.0.0.1:8080");

    String publicBase = o.publicBaseUrl() != null ? o.publicBaseUrl() : str(root, "public-base-url");
    URI publicBaseUrl = publicBase == null
        ? URI.create("http://" + (listen.host().equals("0.0.0.0") ? "127.0.0.1" : listen.host()) + ":" + listen.port() + "/fhir")
        : httpUrl(root, "public-base-url", publicBase);

    DeploymentConfig.Tls tls = null;
    YamlSection t = root.section("tls");
    if (t != null) {
      Path cert = path(t, "certificate", baseDir, true);
      Path key = path(t, "private-key", baseDir, true);
      Path ca = path(t, "client-ca", baseDir, false);
      t.finish();
      if (cert != null && key != null) {
        tls = new DeploymentConfig.Tls(cert, key, ca);
      }
    }

    DeploymentConfig.Upstream upstream = upstream(root, o);
    DeploymentConfig.Identity identity = identity(root, o, baseDir);

    Path policies = o.policies();
    if (policies == null) {
      policies = path(root, "policies", baseDir, false);
      if (policies == null) {
        root.problem("policies", "missing (required: the directory of role policy files, or --policies DIR)");
        policies = baseDir;
      }
    }
    if (!Files.isDirectory(policies)) {
      root.problem("policies", policies + " (expected: an existing directory of role policy files)");
    }

    DeploymentConfig.Limits limits = new DeploymentConfig.Limits(2 << 20, 64L << 20, 8192, 16384, 100,
        Duration.ofSeconds(30), Duration.ofSeconds(60));
    YamlSection l = root.section("limits");
    if (l != null) {
      limits = new DeploymentConfig.Limits(
          (int) l.size("max-request-body", 2 << 20, 1024, 256L << 20),
          l.size("max-response-body", 64L << 20, 64 * 1024, 2L << 30),
          (int) l.size("max-initial-line", 8192, 1024, 65536),
          (int) l.size("max-header-size", 16384, 4096, 262144),
          l.integer("max-headers", 100, 10, 1000),
          l.duration("request-timeout", Duration.ofSeconds(30)),
          l.duration("idle-timeout", Duration.ofSeconds(60)));
      l.finish();
    }

    DeploymentConfig.Quota quota = new DeploymentConfig.Quota("local", 100_000);
    YamlSection q = root.section("quota");
    if (q != null) {
      quota = new DeploymentConfig.Quota(q.oneOf("store", "local", "local"), q.integer("max-accounts", 100_000, 100, 10_000_000));
      q.finish();
    }

    DeploymentConfig.Audit audit = new DeploymentConfig.Audit(baseDir.resolve("fhirwall-audit.jsonl"), false);
    YamlSection a = root.section("audit");
    if (a != null) {
      Path f = path(a, "file", baseDir, false);
      boolean stdout = a.bool("stdout", false);
      a.finish();
      if (f == null && !stdout) {
        a.problem("file", "missing (expected: an audit file, or stdout: true)");
      }
      audit = new DeploymentConfig.Audit(f, stdout);
    }

    DeploymentConfig.Alerts alerts = new DeploymentConfig.Alerts(null);
    YamlSection al = root.section("alerts");
    if (al != null) {
      String hook = str(al, "webhook");
      alerts = new DeploymentConfig.Alerts(hook == null ? null : httpUrl(al, "webhook", hook));
      al.finish();
    }

    DeploymentConfig.HostPort admin = null;
    YamlSection ad = root.section("admin");
    if (ad == null) {
      admin = new DeploymentConfig.HostPort("127.0.0.1", 9091);
    } else {
      boolean enabled = ad.bool("enabled", true);
      DeploymentConfig.HostPort hp = hostPort(ad, "listen", null, "127.0.0.1:9091");
      ad.finish();
      if (enabled) {
        admin = hp;
        if (hp.port() != 0 && hp.port() == listen.port() && hp.host().equals(listen.host())) {
          ad.problem("listen", hp + " (expected: a port other than the public one)");
        }
      }
    }

    DeploymentConfig.Paging paging = new DeploymentConfig.Paging(null, Duration.ofHours(1));
    YamlSection p = root.section("paging");
    if (p != null) {
      paging = new DeploymentConfig.Paging(path(p, "secret-file", baseDir, false),
          p.duration("link-ttl", Duration.ofHours(1)));
      p.finish();
    }
    if (paging.secretFile() != null && !Files.isReadable(paging.secretFile())) {
      problems.add(root.file(), 0, "paging.secret-file", paging.secretFile() + " (expected: a readable file of at least 32 bytes)");
    }

    String breakGlassHeader = root.string("break-glass-header", "X-Break-Glass-Reason");
    if (!HEADER_NAME.matcher(breakGlassHeader).matches()) {
      root.problem("break-glass-header", breakGlassHeader + " (expected: an HTTP header name)");
    }
    root.finish();
    return new DeploymentConfig(listen, publicBaseUrl, tls, upstream, identity, policies, limits, quota,
        audit, alerts, admin, paging, breakGlassHeader);
  }

  private DeploymentConfig.Upstream upstream(YamlSection root, Overrides o) {
    YamlSection u = root.section("upstream");
    String url = o.upstream();
    Duration connect = Duration.ofSeconds(2);
    Duration response = Duration.ofSeconds(60);
    int perLoop = 64;
    int concurrent = 256;
    DeploymentConfig.CircuitBreaker cb = new DeploymentConfig.CircuitBreaker(50, 20, Duration.ofSeconds(30), Duration.ofSeconds(10));
    Map<String, String> headers = Map.of();
    if (u != null) {
      String fromFile = str(u, "url");
      if (url == null) {
        url = fromFile;
      }
      connect = u.duration("connect-timeout", connect);
      response = u.duration("response-timeout", response);
      perLoop = u.integer("max-connections-per-loop", perLoop, 1, 10_000);
      concurrent = u.integer("max-concurrent", concurrent, 1, 100_000);
      YamlSection c = u.section("circuit-breaker");
      if (c != null) {
        cb = new DeploymentConfig.CircuitBreaker(
            c.integer("failure-rate", 50, 1, 100),
            c.integer("minimum-calls", 20, 1, 100_000),
            c.duration("slow-call", Duration.ofSeconds(30)),
            c.duration("open-for", Duration.ofSeconds(10)));
        c.finish();
      }
      YamlSection h = u.section("headers");
      if (h != null) {
        headers = headers(h);
      }
      u.finish();
    }
    if (url == null) {
      root.problem("upstream", "missing url (required: the EPR's FHIR base URL, or --upstream URL)");
      url = "http://127.0.0.1:1/fhir";
    }
    URI uri = httpUrl(u != null ? u : root, u != null ? "url" : "upstream", url);
    return new DeploymentConfig.Upstream(uri, connect, response, perLoop, concurrent, cb, headers);
  }

  private Map<String, String> headers(YamlSection h) {
    Map<String, String> out = new LinkedHashMap<>();
    // Header names are free-form keys here; read them through the section's own listing.
    for (String name : h.keys()) {
      String v = str(h, name);
      if (!HEADER_NAME.matcher(name).matches()) {
        h.problem(name, "not an HTTP header name");
      } else if (v != null) {
        out.put(name, v);
      }
    }
    h.finish();
    return out;
  }

  private DeploymentConfig.Identity identity(YamlSection root, Overrides o, Path baseDir) {
    YamlSection i = root.section("identity");
    String issuer = o.issuer();
    Set<String> audiences = new LinkedHashSet<>();
    if (o.audience() != null) {
      audiences.add(o.audience());
    }
    Set<String> clients = new LinkedHashSet<>();
    List<String> algorithms = DEFAULT_ALGORITHMS;
    Duration skew = Duration.ofSeconds(30);
    URI discovery = null;
    URI jwks = null;
    List<String> roleClaims = List.of("realm_access.roles", "resource_access.<client>.roles");
    String usernameClaim = "preferred_username";
    DeploymentConfig.Introspection introspection = null;
    Duration refresh = Duration.ofSeconds(30);
    Duration maxAge = Duration.ofHours(24);
    int maxToken = 16 * 1024;
    if (i != null) {
      String fileIssuer = str(i, "issuer");
      if (issuer == null) {
        issuer = fileIssuer;
      }
      List<String> fileAud = i.strings("audience");
      if (audiences.isEmpty()) {
        audiences.addAll(fileAud);
      }
      clients.addAll(i.strings("clients"));
      List<String> algs = i.strings("algorithms");
      if (!algs.isEmpty()) {
        for (String alg : algs) {
          if (!ALLOWED_ALGORITHMS.contains(alg)) {
            i.problem("algorithms", alg + " (expected: asymmetric algorithms only, from " + DEFAULT_ALGORITHMS + ")");
          }
        }
        algorithms = algs;
      }
      skew = i.duration("clock-skew", skew);
      if (skew.compareTo(Duration.ofMinutes(5)) > 0) {
        i.problem("clock-skew", skew + " (expected: at most 5m)");
      }
      String d = str(i, "discovery-url");
      discovery = d == null ? null : httpUrl(i, "discovery-url", d);
      String j = str(i, "jwks-uri");
      jwks = j == null ? null : httpUrl(i, "jwks-uri", j);
      List<String> rc = i.strings("role-claims");
      if (!rc.isEmpty()) {
        roleClaims = rc;
      }
      usernameClaim = i.string("username-claim", usernameClaim);
      refresh = i.duration("jwks-refresh-interval", refresh);
      maxAge = i.duration("jwks-max-age", maxAge);
      maxToken = (int) i.size("max-token-size", maxToken, 1024, 256 * 1024);
      YamlSection in = i.section("introspection");
      if (in != null) {
        String ep = str(in, "endpoint");
        String clientId = str(in, "client-id");
        String secret = str(in, "client-secret");
        Path secretFile = path(in, "client-secret-file", baseDir, false);
        Duration cache = in.duration("cache", Duration.ofSeconds(30));
        in.finish();
        if (secret == null && secretFile != null) {
          try {
            secret = Files.readString(secretFile, StandardCharsets.UTF_8).trim();
          } catch (IOException e) {
            in.problem("client-secret-file", secretFile + ": " + e.getMessage());
          }
        }
        if (clientId == null) {
          in.problem("client-id", "missing (required for introspection)");
        }
        if (secret == null) {
          in.problem("client-secret", "missing (expected: client-secret or client-secret-file)");
        }
        if (clientId != null && secret != null) {
          introspection = new DeploymentConfig.Introspection(ep == null ? null : httpUrl(in, "endpoint", ep), clientId, secret, cache);
        }
      }
      i.finish();
    }
    if (issuer == null) {
      (i != null ? i : root).problem(i != null ? "issuer" : "identity", "missing issuer (required: the IdP's issuer URL, or --issuer URL)");
      issuer = "https://invalid.example";
    } else {
      httpUrl(i != null ? i : root, "issuer", issuer);
    }
    if (audiences.isEmpty()) {
      (i != null ? i : root).problem(i != null ? "audience" : "identity", "missing audience (required: the audience fhirwall's tokens carry, or --audience NAME)");
    }
    return new DeploymentConfig.Identity(issuer, audiences, clients, algorithms, skew, discovery, jwks, roleClaims,
        usernameClaim, introspection, refresh, maxAge, maxToken);
  }

  private DeploymentConfig.HostPort hostPort(YamlSection s, String key, @Nullable String override, String defaultValue) {
    String v = override != null ? override : str(s, key);
    if (v == null) {
      v = defaultValue;
    }
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      s.problem(key, v + " (expected: host:port, e.g. 0.0.0.0:8080)");
      return new DeploymentConfig.HostPort("127.0.0.1", 0);
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(v.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new DeploymentConfig.HostPort(host, port);
    } catch (NumberFormatException e) {
      s.problem(key, v + " (expected: host:port with a port 0..65535)");
      return new DeploymentConfig.HostPort("127.0.0.1", 0);
    }
  }

  private static URI httpUrl(YamlSection s, String key, String value) {
    try {
      URI u = new URI(value);
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
          || u.getRawQuery() != null || u.getRawFragment() != null) {
        s.problem(key, value + " (expected: an http(s) URL without query or fragment)");
      }
      return u;
    } catch (URISyntaxException e) {
      s.problem(key, value + " (expected: an http(s) URL)");
      return URI.create("http://invalid.example");
    }
  }

  private @Nullable Path path(YamlSection s, String key, Path baseDir, boolean required) {
    String v = str(s, key);
    if (v == null) {
      if (required) {
        s.problem(key, "missing (required)");
      }
      return null;
    }
    return baseDir.resolve(v).normalize();
  }
}
