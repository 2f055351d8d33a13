package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.config.DeploymentKit.DOCKER;
import static org.fhirwall.config.DeploymentKit.POLICIES;
import static org.fhirwall.config.DeploymentKit.REPLICAS;
import static org.fhirwall.config.DeploymentKit.REPO;
import static org.fhirwall.config.DeploymentKit.compose;
import static org.fhirwall.config.DeploymentKit.composeTls;
import static org.fhirwall.config.DeploymentKit.dockerIgnored;
import static org.fhirwall.config.DeploymentKit.dockerfile;
import static org.fhirwall.config.DeploymentKit.execForm;
import static org.fhirwall.config.DeploymentKit.finalStage;
import static org.fhirwall.config.DeploymentKit.list;
import static org.fhirwall.config.DeploymentKit.map;
import static org.fhirwall.config.DeploymentKit.only;
import static org.fhirwall.config.DeploymentKit.port;
import static org.fhirwall.config.DeploymentKit.read;
import static org.fhirwall.config.DeploymentKit.service;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirwall.config.DeploymentKit.Instruction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What docker/ ships is what fhirwall accepts and what Docker can build and run, checked without a
 * Docker engine: the deployment file loads with the environment compose gives the replicas, the
 * Dockerfile builds the product from what its build context holds, the image runs as a user with a
 * read-only root and a health check that starts no JVM, and the compose files name existing files,
 * pinned images and health conditions. (The it module runs the same files through real processes:
 * DeploymentKitIT.)
 */
class DockerFilesTest {
  private static final Pattern DIGEST = Pattern.compile("^[^\\s@]+:[^\\s@]+@sha256:[0-9a-f]{64}$");

  /** docker/fhirwall.yaml with the compose environment; the secrets compose mounts are made in {@code dir}. */
  static DeploymentConfig loadShippedFile(Map<String, String> environment, Path dir) throws Exception {
    Map<String, String> env = new HashMap<>(environment);
    env.put("FHIRWALL_POLICIES", POLICIES.resolve("roles").toString());
    env.put("FHIRWALL_AUDIT_FILE", dir.resolve("audit.jsonl").toString());
    env.put("FHIRWALL_ADMIN_TOKEN_FILE", Files.writeString(dir.resolve("admin-tokens"), "ops " + "x".repeat(40)).toString());
    env.put("FHIRWALL_PAGING_SECRET_FILE", Files.writeString(dir.resolve("paging-key"), "k".repeat(64)).toString());
    return new DeploymentLoader(env::get).load(DOCKER.resolve("fhirwall.yaml"), DeploymentLoader.Overrides.NONE);
  }

  @Test
  void theDeploymentFileLoadsWithTheComposeEnvironment(@TempDir Path dir) throws Exception {
    DeploymentConfig c = loadShippedFile(DeploymentKit.loadable(DeploymentKit.replicaEnvironment()), dir);
    assertThat(c.upstream().url().toString()).isEqualTo("http://epr:8080/fhir");
    assertThat(c.identity().issuer()).isEqualTo("http://localhost:8180/realms/fhirwall");
    assertThat(c.identity().jwksUri()).hasToString("http://keycloak:8180/realms/fhirwall/protocol/openid-connect/certs");
    assertThat(c.publicBaseUrl()).hasToString("http://localhost:8080/fhir");
    assertThat(c.admin()).isNotNull();
    assertThat(c.admin().tokenFile()).as("the admin port listens beyond loopback: operators need tokens").isNotNull();
    assertThat(c.paging().secretFile()).as("replicas share the paging key").isNotNull();
    assertThat(c.identity().clients()).as("the shipped deployment names its clients").isNotEmpty();
    assertThat(c.warnings()).isEmpty();
    if (DeploymentKit.clusterKeysKnown()) {
      assertThat(c.quota().store()).as("the replicas share quotas and locks").isEqualTo("redis");
    }
    new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).loadDirectory(c.policies());
  }

  /**
   * The cluster keys (quota.store redis, quota.redis.url, quota.on-store-failure, quota.replicas) are
   * being added by the cluster work; until the schema knows them, they are the only variables of
   * the replicas' environment it does not know, and the file loads without them (the test above).
   * Once it knows them, every variable must name a key.
   */
  @Test
  void everyVariableTheReplicasGetNamesADeploymentKeyOrTheFile() {
    Map<String, String> env = DeploymentKit.replicaEnvironment();
    String file = read(DOCKER.resolve("fhirwall.yaml"));
    List<String> unknown = new ArrayList<>();
    for (String name : env.keySet()) {
      boolean usedByFile = file.contains("${" + name + "}");
      if (!usedByFile && !DeploymentKit.schemaVariables().contains(name)) {
        unknown.add(name);
      }
    }
    if (DeploymentKit.clusterKeysKnown()) {
      assertThat(unknown).isEmpty();
    } else {
      assertThat(DeploymentKit.CLUSTER_VARIABLES).containsAll(unknown);
      assertThat(env).containsEntry("FHIRWALL_QUOTA_STORE", "redis").containsEntry("FHIRWALL_QUOTA_ON_STORE_FAILURE", "deny")
          .containsEntry("FHIRWALL_QUOTA_REPLICAS", String.valueOf(REPLICAS.size()));
    }
    for (String name : DeploymentKit.replicaEnvironment().keySet()) {
      assertThat(name).matches("[A-Z][A-Z0-9_]*");
    }
  }

  @Test
  void theTlsExampleSetsTheTlsKeysAndThePublicHttpsAddress(@TempDir Path dir) throws Exception {
    Map<String, String> env = new LinkedHashMap<>(DeploymentKit.loadable(DeploymentKit.replicaEnvironment()));
    Map<String, Object> tls = composeTls();
    for (String replica : REPLICAS) {
      Map<String, Object> overlay = service(tls, replica);
      map(overlay, "environment").forEach((k, v) -> env.put(k, String.valueOf(v)));
      assertThat(list(overlay, "secrets")).containsExactlyInAnyOrder("tls-certificate", "tls-private-key");
    }
    assertThat(env.get("FHIRWALL_TLS_CERTIFICATE")).isEqualTo("/run/secrets/tls-certificate");
    assertThat(env.get("FHIRWALL_TLS_PRIVATE_KEY")).isEqualTo("/run/secrets/tls-private-key");
    // the files exist once docker/tls/make-certs.sh has run; here, stand-ins
    env.put("FHIRWALL_TLS_CERTIFICATE", Files.writeString(dir.resolve("fhirwall.crt"), "pem").toString());
    env.put("FHIRWALL_TLS_PRIVATE_KEY", Files.writeString(dir.resolve("fhirwall.key"), "pem").toString());
    DeploymentConfig c = loadShippedFile(env, dir);
    assertThat(c.tls()).isNotNull();
    assertThat(c.publicBaseUrl()).hasToString("https://localhost:8443/fhir");
    assertThat(map(tls, "secrets", "tls-certificate").get("file")).isEqualTo("./secrets/tls/fhirwall.crt");
    assertThat(map(tls, "secrets", "tls-private-key").get("file")).isEqualTo("./secrets/tls/fhirwall.key");
    String makeCerts = read(DOCKER.resolve("tls/make-certs.sh"));
    assertThat(makeCerts).contains("secrets/tls").contains("-out fhirwall.crt").contains("-out fhirwall.key");
  }

  @Test
  void theImageShipsTheExamplePoliciesAndTheDeploymentFile() {
    String dockerfile = read(DOCKER.resolve("Dockerfile"));
    assertThat(dockerfile).contains("COPY policies/roles /etc/fhirwall/policies")
        .contains("COPY docker/fhirwall.yaml /etc/fhirwall/fhirwall.yaml");
    assertThat(Files.isDirectory(POLICIES.resolve("roles"))).isTrue();
    assertThat(execForm(only("ENTRYPOINT").args())).containsSequence("--config", "/etc/fhirwall/fhirwall.yaml");
  }

  /**
   * Maven reads every module the root pom lists, even to build one: the build stage must copy each
   * module's pom, or the image does not build. It builds the product alone; the demo stays out.
   */
  @Test
  void theImageBuildsTheProductAloneWithEveryModulePomPresent() {
    String dockerfile = read(DOCKER.resolve("Dockerfile"));
    Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(read(REPO.resolve("pom.xml")));
    List<String> listed = new ArrayList<>();
    while (modules.find()) {
      listed.add(modules.group(1));
    }
    assertThat(listed).contains("proxy", "demo");
    for (String module : listed) {
      assertThat(dockerfile).contains("COPY " + module + "/pom.xml " + module + "/");
    }
    assertThat(dockerfile).contains("-pl proxy package").contains("COPY --from=build /src/proxy/target/fhirwall.jar ")
        .doesNotContain("COPY demo ").doesNotContain("fhirwall-demo.jar");
  }

  /**
   * The product jar carries files from outside proxy/ (the configuration schemas in policies/): the
   * build stage must have copied them before it packages, or the jar is built without them and
   * fhirwall cannot start.
   */
  @Test
  void theBuildStageCopiesEveryFileThePackageStepReadsFromOutsideTheModule() {
    String pom = read(REPO.resolve("proxy/pom.xml"));
    Matcher resource = Pattern.compile("<directory>\\$\\{project\\.basedir}/\\.\\./([^<]+)</directory>\\s*<includes>(.*?)</includes>",
        Pattern.DOTALL).matcher(pom);
    List<String> needed = new ArrayList<>();
    while (resource.find()) {
      Matcher include = Pattern.compile("<include>([^<]+)</include>").matcher(resource.group(2));
      while (include.find()) {
        needed.add(resource.group(1) + "/" + include.group(1));
      }
    }
    assertThat(needed).contains("policies/schema.json", "policies/deployment.schema.json");
    List<String> copiedBeforePackage = new ArrayList<>();
    for (Instruction i : dockerfile()) {
      if (i.keyword().equals("RUN") && i.args().contains("package")) {
        break;
      }
      if (i.keyword().equals("COPY") && !i.args().startsWith("--from")) {
        List<String> words = List.of(i.args().split("\\s+"));
        copiedBeforePackage.addAll(words.subList(0, words.size() - 1));
      }
    }
    for (String file : needed) {
      assertThat(copiedBeforePackage).as("copied before the package step: %s", file)
          .anyMatch(src -> file.equals(src) || file.startsWith(src + "/"));
    }
    assertThat(copiedBeforePackage).contains("proxy/src");
  }

  @Test
  void everyBaseImageIsPinnedByDigest() {
    List<String> froms = dockerfile().stream().filter(i -> i.keyword().equals("FROM")).map(Instruction::args).toList();
    assertThat(froms).hasSize(2);
    for (String from : froms) {
      assertThat(from.split("\\s+")[0]).as(from).matches(DIGEST);
    }
  }

  @Test
  void aDependencyErrorFailsTheBuild() {
    for (Instruction i : dockerfile()) {
      if (i.keyword().equals("RUN")) {
        assertThat(i.args()).as(i.args()).doesNotContain("|| true").doesNotContain("|| :").doesNotContainPattern(";\\s*true\\b");
      }
    }
    assertThat(dockerfile()).anyMatch(i -> i.keyword().equals("RUN") && i.args().startsWith("mvn ") && i.args().contains("dependency:"));
  }

  /** The context is the repository root: build outputs and history stay out, what the Dockerfile copies stays in. */
  @Test
  void theBuildContextLeavesOutBuildOutputAndHistoryButHoldsWhatTheImageCopies() throws Exception {
    assertThat(dockerIgnored("proxy/target/fhirwall.jar")).isTrue();
    assertThat(dockerIgnored("demo/target/classes/x.class")).isTrue();
    assertThat(dockerIgnored("it/target/keycloak/keycloak-26.5.6/bin/kc.sh")).isTrue();
    assertThat(dockerIgnored(".git/HEAD")).isTrue();
    assertThat(dockerIgnored("docker/secrets/admin-tokens")).as("secrets never enter the context").isTrue();
    assertThat(dockerIgnored("docker/secrets/tls/fhirwall.key")).isTrue();
    for (Instruction i : dockerfile()) {
      if (i.keyword().equals("COPY") && !i.args().startsWith("--from")) {
        List<String> words = List.of(i.args().split("\\s+"));
        for (String source : words.subList(0, words.size() - 1)) {
          assertThat(REPO.resolve(source)).as("COPY source %s", source).exists();
          assertThat(dockerIgnored(source)).as("COPY source %s left out of the context", source).isFalse();
        }
      }
    }
    try (var sources = Files.walk(REPO.resolve("proxy/src"))) {
      assertThat(sources.filter(Files::isRegularFile).map(p -> REPO.relativize(p).toString().replace('\\', '/')))
          .noneMatch(DeploymentKit::dockerIgnored);
    }
  }

  /** A non-root user, and nothing the running image must write outside /tmp and its declared volumes. */
  @Test
  void theImageRunsAsANonRootUserWithARootFileSystemItNeverWrites() {
    String user = only("USER").args();
    assertThat(user).matches("[1-9][0-9]{3,}:[1-9][0-9]{3,}");
    List<String> volumes = execForm(only("VOLUME").args());
    assertThat(volumes).containsExactlyInAnyOrder("/var/log/fhirwall", "/tmp");
    Map<String, Object> file = DeploymentKit.shippedDeploymentFile();
    assertThat(String.valueOf(map(file, "audit").get("file"))).startsWith("/var/log/fhirwall/");
    // Netty's native transport is loaded from the image, not extracted into a writable directory
    List<String> entrypoint = execForm(only("ENTRYPOINT").args());
    assertThat(entrypoint).contains("-Djava.library.path=/opt/fhirwall/native");
    assertThat(read(DOCKER.resolve("Dockerfile"))).contains("COPY --from=build /out/native /opt/fhirwall/native");
    for (String replica : REPLICAS) {
      Map<String, Object> s = service(compose(), replica);
      assertThat(s.get("read_only")).isEqualTo(true);
      assertThat(list(s, "tmpfs")).containsExactly("/tmp");
      assertThat(list(s, "volumes")).extracting(String::valueOf).satisfiesExactly(
          audit -> assertThat(audit).endsWith(":/var/log/fhirwall"),
          policies -> assertThat(policies).isEqualTo("./walkthrough/policies:/etc/fhirwall/policies:ro"));
    }
  }

  /**
   * Docker's HEALTHCHECK asks the admin API's /ready with curl (in the base image), not a second JVM,
   * on the port the deployment file's admin.listen names; EXPOSE names both ports.
   */
  @Test
  void theHealthCheckAsksReadinessOnTheAdminPortWithoutStartingAJvm() {
    Map<String, Object> file = DeploymentKit.shippedDeploymentFile();
    int listen = port(String.valueOf(file.get("listen")));
    int admin = port(String.valueOf(map(file, "admin").get("listen")));
    List<String> check = execForm(only("HEALTHCHECK").args());
    assertThat(check.get(0)).isEqualTo("curl");
    assertThat(check).doesNotContain("java").contains("--fail").contains("http://127.0.0.1:" + admin + "/ready");
    assertThat(only("HEALTHCHECK").args()).contains("--timeout=").contains("--interval=");
    assertThat(only("EXPOSE").args().split("\\s+")).containsExactlyInAnyOrder(String.valueOf(listen), String.valueOf(admin));
    for (String replica : REPLICAS) {
      assertThat(list(service(compose(), replica), "expose")).containsExactlyInAnyOrder(String.valueOf(listen), String.valueOf(admin));
    }
  }

  /**
   * The heap follows the container's memory limit; with the direct buffers and about 256 MiB for
   * metaspace, threads and code it stays within the limit compose sets.
   */
  @Test
  void theJvmSizesItsHeapFromTheContainerLimit() {
    List<String> entrypoint = execForm(only("ENTRYPOINT").args());
    assertThat(entrypoint).noneMatch(a -> a.startsWith("-Xmx")).contains("-XX:+ExitOnOutOfMemoryError");
    for (String replica : REPLICAS) {
      long limit = mebibytes(String.valueOf(service(compose(), replica).get("mem_limit")));
      assertThat(jvmFootprintMiB(entrypoint, limit)).as("%s: heap + direct + 256 MiB within %d MiB", replica, limit)
          .isLessThanOrEqualTo(limit);
      assertThat(heapMiB(entrypoint, limit)).as("the heap the benchmark measured, -Xmx512m").isGreaterThanOrEqualTo(512);
    }
  }

  static long heapMiB(List<String> jvm, long limitMiB) {
    double percent = jvm.stream().filter(a -> a.startsWith("-XX:MaxRAMPercentage=")).mapToDouble(a -> Double.parseDouble(a.split("=")[1]))
        .findFirst().orElseThrow(() -> new AssertionError("no -XX:MaxRAMPercentage in " + jvm));
    return (long) (limitMiB * percent / 100);
  }

  static long jvmFootprintMiB(List<String> jvm, long limitMiB) {
    long direct = jvm.stream().filter(a -> a.startsWith("-XX:MaxDirectMemorySize=")).map(a -> mebibytes(a.split("=")[1]))
        .findFirst().orElseThrow(() -> new AssertionError("no -XX:MaxDirectMemorySize in " + jvm));
    return heapMiB(jvm, limitMiB) + direct + 256;
  }

  /** {@code 1g}, {@code 1Gi}, {@code 768m}, {@code 512Mi} in MiB. */
  static long mebibytes(String size) {
    Matcher m = Pattern.compile("(\\d+)([gGmM])i?").matcher(size.strip());
    assertThat(m.matches()).as("a size in MiB or GiB: %s", size).isTrue();
    return Long.parseLong(m.group(1)) * (m.group(2).equalsIgnoreCase("g") ? 1024 : 1);
  }

  @Test
  void onlyTheLoadBalancerAndKeycloakArePublished() {
    Map<String, Object> services = map(compose(), "services");
    List<String> published = new ArrayList<>();
    services.forEach((name, s) -> {
      if (!list(s, "ports").isEmpty()) {
        published.add(name);
      }
    });
    assertThat(published).containsExactlyInAnyOrder("lb", "keycloak");
    assertThat(list(services.get("lb"), "ports")).containsExactly("8080:8080");
    assertThat(list(services.get("keycloak"), "ports")).containsExactly("8180:8180");
    // the TLS example publishes the pass-through port, nothing else
    assertThat(list(service(composeTls(), "lb"), "ports")).containsExactly("8443:8443");
  }

  /**
   * Every depends_on waits for a condition; a service_healthy target has a health check (its own or
   * the image's HEALTHCHECK). The EPR's image has no shell for one: the seed job waits for it.
   */
  @Test
  void everyDependencyWaitsForItsTargetToBeHealthyOrDone() {
    Map<String, Object> services = map(compose(), "services");
    int conditions = 0;
    for (Map.Entry<String, Object> s : services.entrySet()) {
      Object deps = ((Map<?, ?>) s.getValue()).get("depends_on");
      if (deps == null) {
        continue;
      }
      assertThat(deps).as("%s: depends_on with conditions", s.getKey()).isInstanceOf(Map.class);
      for (Map.Entry<?, ?> d : ((Map<?, ?>) deps).entrySet()) {
        String condition = String.valueOf(((Map<?, ?>) d.getValue()).get("condition"));
        Map<String, Object> target = map(services, String.valueOf(d.getKey()));
        switch (condition) {
          case "service_healthy" -> assertThat(target.containsKey("healthcheck") || REPLICAS.contains(String.valueOf(d.getKey())))
              .as("%s waits for %s to be healthy: it needs a health check", s.getKey(), d.getKey()).isTrue();
          case "service_completed_successfully" -> assertThat(target.get("restart")).isEqualTo("no");
          case "service_started" -> assertThat(d.getKey()).as("only the EPR, which the seed job polls").isEqualTo("epr");
          default -> throw new AssertionError(s.getKey() + " -> " + d.getKey() + ": condition " + condition);
        }
        conditions++;
      }
    }
    assertThat(conditions).isGreaterThanOrEqualTo(8);
    assertThat(map(service(compose(), "lb"), "depends_on")).containsOnlyKeys(REPLICAS.toArray(new String[0]));
    assertThat(map(service(compose(), REPLICAS.get(0)), "depends_on")).containsKeys("keycloak", "redis", "epr-seed");
  }

  /**
   * The walkthrough's physician (curl cannot sign DPoP proofs) is the shipped one without its
   * sender-constrained requirement, and nothing else.
   */
  @Test
  void theWalkthroughsPhysicianIsTheShippedOneWithoutTheDpopRequirementOnly() {
    String shipped = read(DOCKER.resolve("../policies/roles/physician.yaml").normalize());
    String walkthrough = read(DOCKER.resolve("walkthrough/policies/physician.yaml"));
    int from = shipped.indexOf("  # Only tokens bound");
    int to = shipped.indexOf("  sender-constrained: dpop\n") + "  sender-constrained: dpop\n".length();
    String expected = shipped.substring(0, from) + shipped.substring(to);
    List<String> lines = new java.util.ArrayList<>(List.of(walkthrough.split("\n", -1)));
    assertThat(lines.subList(1, 6)).allSatisfy(l -> assertThat(l).startsWith("#"));
    assertThat(lines.get(2)).startsWith("# WALKTHROUGH ONLY");
    lines.subList(1, 6).clear();
    String withoutNote = String.join("\n", lines).replace("../../../policies/schema.json", "../schema.json");
    assertThat(withoutNote).isEqualTo(expected);
  }

  /** Every file compose mounts exists, or is made by the kit's scripts (secrets, certificates). */
  @Test
  void everyFileTheComposeFilesMountExistsOrIsMadeByAScript() {
    String makers = read(DOCKER.resolve("make-secrets.sh")) + read(DOCKER.resolve("tls/make-certs.sh"));
    List<Map<String, Object>> files = List.of(compose(), composeTls());
    int checked = 0;
    for (Map<String, Object> c : files) {
      for (Object s : map(c, "services").values()) {
        for (Object volume : list(s, "volumes")) {
          String source = String.valueOf(volume).split(":")[0];
          if (source.startsWith("./")) {
            assertThat(DOCKER.resolve(source)).as("mounted %s", volume).exists();
            checked++;
          }
        }
      }
      Object secrets = c.get("secrets");
      if (secrets != null) {
        for (Object secret : ((Map<?, ?>) secrets).values()) {
          String file = String.valueOf(((Map<?, ?>) secret).get("file"));
          assertThat(file).startsWith("./secrets/");
          String name = Path.of(file).getFileName().toString();
          assertThat(makers).as("a script makes %s", file).contains(name);
          checked++;
        }
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(10);
    Map<String, Object> build = map(service(compose(), REPLICAS.get(0)), "build");
    assertThat(DOCKER.resolve(String.valueOf(build.get("context"))).resolve(String.valueOf(build.get("dockerfile")))).exists();
    for (String script : List.of("make-secrets.sh", "tls/make-certs.sh", "epr/seed.sh", "walkthrough/login.sh", "walkthrough/dpop.py")) {
      assertThat(Files.isExecutable(DOCKER.resolve(script))).as(script).isTrue();
    }
  }

  /** Every image but fhirwall's own (built from the Dockerfile) is pinned by digest. */
  @Test
  void everyComposeImageIsPinnedByDigestButTheOneItBuilds() {
    map(compose(), "services").forEach((name, s) -> {
      Map<?, ?> service = (Map<?, ?>) s;
      String image = String.valueOf(service.get("image"));
      if (service.containsKey("build")) {
        assertThat(image).isEqualTo("fhirwall:" + DeploymentKit.projectVersion());
      } else {
        assertThat(image).as(name).matches(DIGEST);
      }
    });
  }

  /** The replicas differ in name and audit volume only. */
  @Test
  void theReplicasRunTheSameImageAndConfiguration() {
    Map<String, Object> one = new LinkedHashMap<>(service(compose(), REPLICAS.get(0)));
    Map<String, Object> two = new LinkedHashMap<>(service(compose(), REPLICAS.get(1)));
    assertThat(one.remove("volumes")).isNotEqualTo(two.remove("volumes"));
    assertThat(one).isEqualTo(two);
    assertThat(list(one, "secrets")).containsExactlyInAnyOrder("admin-tokens", "paging-key");
    Map<String, Object> file = DeploymentKit.shippedDeploymentFile();
    assertThat(map(file, "admin").get("token-file")).isEqualTo("/run/secrets/admin-tokens");
    assertThat(map(file, "paging").get("secret-file")).isEqualTo("/run/secrets/paging-key");
  }

  /**
   * The load balancer's configuration, read line by line (HAProxyConfigIT has the real haproxy parse
   * it): it sends to exactly the compose replicas on the public port, checks /ready on the admin port
   * with a Host the admin API accepts, and listens where compose publishes it.
   */
  @Test
  void theLoadBalancerSendsToEveryReplicaAndChecksItsReadiness() {
    Map<String, Object> file = DeploymentKit.shippedDeploymentFile();
    int listen = port(String.valueOf(file.get("listen")));
    int admin = port(String.valueOf(map(file, "admin").get("listen")));
    for (String cfg : List.of("haproxy.cfg", "haproxy-tls.cfg")) {
      List<String> lines = read(DOCKER.resolve("haproxy").resolve(cfg)).lines().map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
      TreeSet<String> servers = new TreeSet<>();
      for (String l : lines) {
        if (l.startsWith("server ")) {
          String[] w = l.split("\\s+");
          servers.add(w[1]);
          assertThat(w[2]).isEqualTo(w[1] + ":" + listen);
          assertThat(l).contains("check port " + admin);
        }
      }
      assertThat(servers).as(cfg).containsExactlyElementsOf(new TreeSet<>(REPLICAS));
      assertThat(lines).as(cfg).contains("option httpchk", "http-check send meth GET uri /ready ver HTTP/1.1 hdr Host 127.0.0.1",
          "http-check expect status 200");
      String bind = lines.stream().filter(l -> l.startsWith("bind ")).findFirst().orElseThrow();
      String published = cfg.equals("haproxy.cfg") ? String.valueOf(list(service(compose(), "lb"), "ports").get(0))
          : String.valueOf(list(service(composeTls(), "lb"), "ports").get(0));
      assertThat(bind).isEqualTo("bind :" + published.split(":")[1]);
    }
    assertThat(list(service(compose(), "lb"), "volumes")).contains("./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro");
    assertThat(list(service(composeTls(), "lb"), "volumes")).contains("./haproxy/haproxy-tls.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro");
  }

  /** Keycloak imports the shipped realm and, beside it, the walkthrough's user; the seed job loads the walkthrough's patients. */
  @Test
  void composeImportsTheShippedRealmAndTheWalkthroughUser() {
    Map<String, Object> keycloak = service(compose(), "keycloak");
    assertThat(list(keycloak, "volumes")).containsExactlyInAnyOrder(
        "./keycloak/fhirwall-realm.json:/opt/keycloak/data/import/fhirwall-realm.json:ro",
        "./keycloak/walkthrough/fhirwall-users-0.json:/opt/keycloak/data/import/fhirwall-users-0.json:ro");
    assertThat(list(keycloak, "command")).contains("--import-realm", "--health-enabled=true");
    assertThat(String.valueOf(keycloak.get("image"))).contains(":" + keycloakVersion() + "@");
    Map<String, Object> seed = service(compose(), "epr-seed");
    assertThat(list(seed, "entrypoint")).contains("/seed/seed.sh", "http://epr:8080/fhir");
  }

  /** The walkthrough and the kit's READMEs name files of the repository that exist (secrets are made by the scripts). */
  @Test
  void theWalkthroughAndTheKitsReadmesNameFilesThatExist() {
    Pattern path = Pattern.compile("(?<![\\w./-])((?:docker|docs|policies|proxy|it)/[\\w./-]*[\\w])");
    int checked = 0;
    for (Path doc : List.of(REPO.resolve("docs/walkthrough.md"), DOCKER.resolve("README.md"), DOCKER.resolve("k8s/README.md"))) {
      Matcher m = path.matcher(read(doc));
      while (m.find()) {
        String p = m.group(1);
        if (p.startsWith("docker/secrets") || p.contains("*")) {
          continue;
        }
        assertThat(REPO.resolve(p)).as("%s names %s", REPO.relativize(doc), p).exists();
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(20);
  }

  static String keycloakVersion() {
    Matcher m = Pattern.compile("<keycloak.version>([^<]+)</keycloak.version>").matcher(read(REPO.resolve("pom.xml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }
}
