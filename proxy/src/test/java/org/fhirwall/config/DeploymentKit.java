package org.fhirwall.config;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The deployment kit in docker/ as the tests read it: the Dockerfile's instructions, the compose
 * files and the Kubernetes manifests parsed as YAML, and the environment a fhirwall replica gets.
 * Shared by the tests of docker/ in this module (and the cli tests that load the shipped file).
 */
public final class DeploymentKit {
  public static final Path DOCKER = Path.of(System.getProperty("fhirwall.docker.dir", "../docker"));
  public static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));
  public static final Path REPO = DOCKER.resolve("..");
  /** The compose services that run fhirwall, behind the load balancer. */
  public static final List<String> REPLICAS = List.of("fhirwall-1", "fhirwall-2");
  /**
   * The cluster-mode variables the kit sets (quota.store redis and the quota.redis.* keys of the
   * cluster work). Until the deployment schema knows them, a replica's environment is loaded
   * without them; once it does, with them (see {@link #clusterKeysKnown()}).
   */
  public static final Set<String> CLUSTER_VARIABLES = Set.of("FHIRWALL_QUOTA_STORE", "FHIRWALL_QUOTA_REDIS_URL",
      "FHIRWALL_QUOTA_ON_STORE_FAILURE", "FHIRWALL_QUOTA_REPLICAS");

  private DeploymentKit() {}

  /** One instruction of the Dockerfile, continuation lines joined: {@code keyword} upper case, {@code args} as written. */
  public record Instruction(String keyword, String args) {}

  public static String read(Path file) {
    try {
      return Files.readString(file, UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Dockerfile's instructions in order (comments dropped, {@code \}-continued lines joined). */
  public static List<Instruction> dockerfile() {
    List<Instruction> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : read(DOCKER.resolve("Dockerfile")).split("\n")) {
      String l = line.strip();
      if (l.startsWith("#") || (l.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (l.endsWith("\\")) {
        current.append(l, 0, l.length() - 1).append(' ');
        continue;
      }
      current.append(l);
      String text = current.toString().strip();
      current.setLength(0);
      if (text.isEmpty()) {
        continue;
      }
      int space = text.indexOf(' ');
      out.add(new Instruction(text.substring(0, space).toUpperCase(java.util.Locale.ROOT), text.substring(space + 1).strip()));
    }
    return out;
  }

  /** The instructions of the last stage (the image that ships). */
  public static List<Instruction> finalStage() {
    List<Instruction> all = dockerfile();
    int from = 0;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).keyword().equals("FROM")) {
        from = i;
      }
    }
    return all.subList(from, all.size());
  }

  /** The JSON (exec form) array of an instruction's arguments, after an optional prefix such as {@code CMD}. */
  public static List<String> execForm(String args) {
    String json = args.substring(args.indexOf('['));
    try {
      List<String> out = new ArrayList<>();
      new ObjectMapper().readTree(json).forEach(n -> out.add(n.asText()));
      return out;
    } catch (IOException e) {
      throw new IllegalArgumentException("not an exec-form array: " + args, e);
    }
  }

  /** The final stage's one instruction of this kind. */
  public static Instruction only(String keyword) {
    List<Instruction> found = finalStage().stream().filter(i -> i.keyword().equals(keyword)).toList();
    if (found.size() != 1) {
      throw new AssertionError(found.size() + " " + keyword + " instructions in the final stage (expected: 1)");
    }
    return found.get(0);
  }

  public static Object yaml(String text) {
    return new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  /** Every document of a YAML file (a manifest file may hold several). */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> yamlDocuments(Path file) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(read(file))) {
      if (doc != null) {
        out.add((Map<String, Object>) doc);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(Object node, String... path) {
    Object at = node;
    for (String p : path) {
      if (!(at instanceof Map)) {
        throw new AssertionError("no map at " + String.join(".", path) + " (stopped at " + p + ")");
      }
      at = ((Map<String, Object>) at).get(p);
    }
    if (!(at instanceof Map)) {
      throw new AssertionError(String.join(".", path) + ": " + at + " (expected: a mapping)");
    }
    return (Map<String, Object>) at;
  }

  @SuppressWarnings("unchecked")
  public static List<Object> list(Object node, String key) {
    Object v = ((Map<String, Object>) node).get(key);
    return v == null ? List.of() : (List<Object>) v;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> compose() {
    return (Map<String, Object>) yaml(read(DOCKER.resolve("compose.yaml")));
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> composeTls() {
    return (Map<String, Object>) yaml(read(DOCKER.resolve("compose.tls.yaml")));
  }

  public static Map<String, Object> service(Map<String, Object> compose, String name) {
    return map(compose, "services", name);
  }

  /** A replica's environment as compose.yaml gives it (values as strings). */
  public static Map<String, String> replicaEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    map(service(compose(), REPLICAS.get(0)), "environment").forEach((k, v) -> env.put(k, String.valueOf(v)));
    return env;
  }

  /** Whether the deployment schema knows the cluster keys the kit sets (the cluster work has landed). */
  public static boolean clusterKeysKnown() {
    JsonNode quota = Schema.DEPLOYMENT.root().path("properties").path("quota");
    boolean redisStore = false;
    for (JsonNode v : quota.path("properties").path("store").path("enum")) {
      redisStore |= v.asText().equals("redis");
    }
    return redisStore && quota.path("properties").has("redis");
  }

  /**
   * {@code environment} as this build of fhirwall can load it: without the cluster variables while
   * the schema does not know them yet.
   */
  public static Map<String, String> loadable(Map<String, String> environment) {
    Map<String, String> env = new LinkedHashMap<>(environment);
    if (!clusterKeysKnown()) {
      env.keySet().removeAll(CLUSTER_VARIABLES);
    }
    return env;
  }

  /** The deployment schema's variable for a key path ({@code quota.redis.url} is {@code FHIRWALL_QUOTA_REDIS_URL}). */
  public static Set<String> schemaVariables() {
    Set<String> out = new java.util.HashSet<>();
    String prefix = Schema.DEPLOYMENT.envPrefix();
    for (Schema.Key key : Schema.DEPLOYMENT.scalarKeys()) {
      out.add(Schema.envName(prefix, key.path()));
    }
    return out;
  }

  /** The host port pairs of a {@code host:port} value. */
  public static int port(String hostPort) {
    Matcher m = Pattern.compile(":(\\d+)$").matcher(hostPort);
    if (!m.find()) {
      throw new AssertionError(hostPort + " (expected: host:port)");
    }
    return Integer.parseInt(m.group(1));
  }

  /** {@code listen} and {@code admin.listen} of docker/fhirwall.yaml, as written. */
  public static Map<String, Object> shippedDeploymentFile() {
    return map(yaml(read(DOCKER.resolve("fhirwall.yaml"))));
  }

  /** The project's version, from the root pom. */
  public static String projectVersion() {
    Matcher m = Pattern.compile("<artifactId>fhirwall-parent</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(read(REPO.resolve("pom.xml")));
    if (!m.find()) {
      throw new AssertionError("no version in the root pom");
    }
    return m.group(1);
  }

  /**
   * Whether {@code path} (relative to the build context, '/'-separated) is left out of the build
   * context by .dockerignore: a pattern excludes what it matches and everything under it; {@code *}
   * stays within one path element, {@code **} crosses them, a later {@code !pattern} takes back.
   */
  public static boolean dockerIgnored(String path) {
    boolean ignored = false;
    for (String raw : read(REPO.resolve(".dockerignore")).split("\n")) {
      String p = raw.strip();
      if (p.isEmpty() || p.startsWith("#")) {
        continue;
      }
      boolean negate = p.startsWith("!");
      if (negate) {
        p = p.substring(1);
      }
      p = p.replaceAll("^/+", "").replaceAll("/+$", "");
      if (matchesOrIsUnder(p, path)) {
        ignored = !negate;
      }
    }
    return ignored;
  }

  private static boolean matchesOrIsUnder(String pattern, String path) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
        regex.append(".*");
        i++;
        if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '/') {
          regex.setLength(regex.length() - 2);
          regex.append("(.*/)?");
          i++;
        }
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex + "(/.*)?").matcher(path).matches();
  }

  /** The Kubernetes manifests: every document of every *.yaml in docker/k8s, by file. */
  public static Map<String, List<Map<String, Object>>> manifests() {
    Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
    try (var files = Files.list(DOCKER.resolve("k8s"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList()) {
        out.put(f.getFileName().toString(), yamlDocuments(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The one manifest of this kind and name. */
  public static Map<String, Object> manifest(String kind, String name) {
    List<Map<String, Object>> found = new ArrayList<>();
    manifests().values().forEach(docs -> docs.stream()
        .filter(d -> kind.equals(d.get("kind")) && name.equals(map(d, "metadata").get("name")))
        .forEach(found::add));
    if (found.size() != 1) {
      throw new AssertionError(found.size() + " manifests of kind " + kind + " named " + name + " (expected: 1)");
    }
    return found.get(0);
  }
}
