package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.config.DeploymentKit.DOCKER;
import static org.fhirwall.config.DeploymentKit.POLICIES;
import static org.fhirwall.config.DeploymentKit.execForm;
import static org.fhirwall.config.DeploymentKit.list;
import static org.fhirwall.config.DeploymentKit.manifest;
import static org.fhirwall.config.DeploymentKit.manifests;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.fhirwall.policy.PolicySet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/k8s/ checked without a cluster: every manifest parses and names what exists (the image and
 * ports of the Dockerfile, the ConfigMaps and Secrets it mounts, the Service ports the monitor and
 * the policy name), the deployment file in the ConfigMap loads with the Deployment's environment
 * and mounts, the policies ConfigMap holds exactly the shipped policies and loads from the layout
 * kubelet gives a ConfigMap volume, and resources agree with the JVM's flags.
 */
class KubernetesManifestsTest {
  private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> podSpec() {
    return map(manifest("Deployment", "fhirwall"), "spec", "template", "spec");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> container() {
    List<Object> containers = list(podSpec(), "containers");
    assertThat(containers).hasSize(1);
    return (Map<String, Object>) containers.get(0);
  }

  private static Map<String, Object> namedPort(List<Object> ports, String name) {
    return ports.stream().map(p -> map(p)).filter(p -> name.equals(p.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no port named " + name + " in " + ports));
  }

  @Test
  void everyManifestParsesAndLivesInTheFhirwallNamespace() {
    Map<String, List<Map<String, Object>>> all = manifests();
    assertThat(all.keySet()).contains("deployment.yaml", "service.yaml", "configmap-deployment.yaml", "configmap-policies.yaml",
        "secrets.yaml", "pdb.yaml", "networkpolicy.yaml", "servicemonitor.yaml", "namespace.yaml", "kustomization.yaml");
    all.forEach((file, docs) -> {
      assertThat(docs).as(file).isNotEmpty();
      for (Map<String, Object> d : docs) {
        assertThat(d).as(file).containsKeys("apiVersion", "kind");
        if (d.get("kind").equals("Kustomization")) {
          continue;
        }
        Map<String, Object> meta = map(d, "metadata");
        assertThat(meta.get("name")).as(file).isNotNull();
        if (!CLUSTER_SCOPED.contains(d.get("kind"))) {
          assertThat(meta.get("namespace")).as("%s %s", file, meta.get("name")).isEqualTo("fhirwall");
        }
      }
    });
    // kubectl apply -k applies every manifest but the placeholder Secrets
    List<Object> resources = list(all.get("kustomization.yaml").get(0), "resources");
    List<String> expected = new ArrayList<>(all.keySet());
    expected.removeAll(List.of("kustomization.yaml", "secrets.yaml"));
    assertThat(resources).containsExactlyInAnyOrderElementsOf(new ArrayList<Object>(expected));
  }

  @Test
  void theDeploymentRunsTheComposeImageOnTheDockerfilesPorts() {
    Map<String, Object> c = container();
    assertThat(c.get("image")).isEqualTo(service(DeploymentKit.compose(), "fhirwall-1").get("image"));
    assertThat(c).doesNotContainKeys("command", "args");
    Map<String, Object> file = DeploymentKit.shippedDeploymentFile();
    List<Object> ports = list(c, "ports");
    assertThat(namedPort(ports, "fhir").get("containerPort")).isEqualTo(port(String.valueOf(file.get("listen"))));
    assertThat(namedPort(ports, "admin").get("containerPort")).isEqualTo(port(String.valueOf(map(file, "admin").get("listen"))));
    assertThat(only("EXPOSE").args().split("\\s+")).containsExactlyInAnyOrder(
        String.valueOf(namedPort(ports, "fhir").get("containerPort")), String.valueOf(namedPort(ports, "admin").get("containerPort")));
  }

  @Test
  void livenessAsksHealthAndReadinessAsksReadyOnTheAdminPort() {
    Map<String, Object> c = container();
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      Map<String, Object> get = map(c, probe, "httpGet");
      assertThat(get.get("port")).as(probe).isEqualTo("admin");
      assertThat(get.get("path")).as(probe).isEqualTo(probe.equals("readinessProbe") ? "/ready" : "/health");
      assertThat(list(get, "httpHeaders")).as("%s names a Host the admin API accepts", probe)
          .containsExactly(Map.of("name", "Host", "value", "127.0.0.1"));
    }
  }

  /** The memory limit holds the heap (MaxRAMPercentage of it), the direct buffers and 256 MiB more. */
  @Test
  void resourcesAgreeWithTheJvmFlags() {
    Map<String, Object> resources = map(container(), "resources");
    Map<String, Object> requests = map(resources, "requests");
    Map<String, Object> limits = map(resources, "limits");
    assertThat(requests.get("memory")).as("memory requested = limit: never evicted for memory it was promised")
        .isEqualTo(limits.get("memory"));
    long limit = DockerFilesTest.mebibytes(String.valueOf(limits.get("memory")));
    List<String> jvm = execForm(only("ENTRYPOINT").args());
    assertThat(DockerFilesTest.jvmFootprintMiB(jvm, limit)).isLessThanOrEqualTo(limit);
    assertThat(DockerFilesTest.heapMiB(jvm, limit)).isGreaterThanOrEqualTo(512);
    assertThat(millicores(requests.get("cpu"))).isLessThanOrEqualTo(millicores(limits.get("cpu")));
    assertThat(limit).as("the same limit as compose's replicas").isEqualTo(
        DockerFilesTest.mebibytes(String.valueOf(service(DeploymentKit.compose(), "fhirwall-1").get("mem_limit"))));
  }

  private static long millicores(Object cpu) {
    String s = String.valueOf(cpu);
    return s.endsWith("m") ? Long.parseLong(s.substring(0, s.length() - 1)) : Long.parseLong(s) * 1000;
  }

  @Test
  void theContainerRunsAsTheImagesUserWithAReadOnlyRoot() {
    Map<String, Object> pod = map(podSpec(), "securityContext");
    String[] user = only("USER").args().split(":");
    assertThat(pod.get("runAsNonRoot")).isEqualTo(true);
    assertThat(pod.get("runAsUser")).isEqualTo(Integer.parseInt(user[0]));
    assertThat(pod.get("runAsGroup")).isEqualTo(Integer.parseInt(user[1]));
    Map<String, Object> c = map(container(), "securityContext");
    assertThat(c.get("readOnlyRootFilesystem")).isEqualTo(true);
    assertThat(c.get("allowPrivilegeEscalation")).isEqualTo(false);
    assertThat(list(map(c, "capabilities"), "drop")).containsExactly("ALL");
    assertThat(podSpec().get("automountServiceAccountToken")).isEqualTo(false);
    List<String> mounts = list(container(), "volumeMounts").stream().map(m -> String.valueOf(map(m).get("mountPath"))).toList();
    assertThat(mounts).contains("/tmp", "/etc/fhirwall/fhirwall.yaml", "/etc/fhirwall/policies");
  }

  /** Two replicas at least, the same number the cluster keys tell fhirwall, and a budget that keeps one. */
  @Test
  void replicasShareTheLoadAndADisruptionNeverTakesTheLastOne() {
    Map<String, Object> spec = map(manifest("Deployment", "fhirwall"), "spec");
    int replicas = (Integer) spec.get("replicas");
    assertThat(replicas).isGreaterThanOrEqualTo(2);
    Map<String, String> env = environment(Map.of());
    assertThat(env).containsEntry("FHIRWALL_QUOTA_REPLICAS", String.valueOf(replicas)).containsEntry("FHIRWALL_QUOTA_STORE", "redis")
        .containsEntry("FHIRWALL_QUOTA_ON_STORE_FAILURE", "deny");
    Map<String, Object> podLabels = map(spec, "template", "metadata", "labels");
    assertThat(podLabels).containsAllEntriesOf(map(spec, "selector", "matchLabels"));
    Map<String, Object> pdb = map(manifest("PodDisruptionBudget", "fhirwall"), "spec");
    assertThat((Integer) pdb.get("minAvailable")).isBetween(1, replicas - 1);
    assertThat(podLabels).containsAllEntriesOf(map(pdb, "selector", "matchLabels"));
    assertThat(map(spec, "strategy", "rollingUpdate").get("maxUnavailable")).isEqualTo(0);
  }

  @Test
  void theServicesSelectThePodsAndTheMonitorScrapesMetricsOnTheAdminPort() {
    Map<String, Object> podLabels = map(manifest("Deployment", "fhirwall"), "spec", "template", "metadata", "labels");
    Map<String, Object> fhir = map(manifest("Service", "fhirwall"), "spec");
    Map<String, Object> admin = manifest("Service", "fhirwall-admin");
    assertThat(podLabels).containsAllEntriesOf(map(fhir, "selector")).containsAllEntriesOf(map(admin, "spec", "selector"));
    assertThat(namedPort(list(fhir, "ports"), "https").get("targetPort")).isEqualTo("fhir");
    assertThat(namedPort(list(map(admin, "spec"), "ports"), "admin").get("targetPort")).isEqualTo("admin");
    assertThat(fhir.get("type")).isEqualTo("ClusterIP");
    assertThat(map(admin, "spec").get("type")).isEqualTo("ClusterIP");

    Map<String, Object> monitor = map(manifest("ServiceMonitor", "fhirwall"), "spec");
    assertThat(map(admin, "metadata", "labels")).containsAllEntriesOf(map(monitor, "selector", "matchLabels"));
    assertThat(map(manifest("Service", "fhirwall"), "metadata", "labels")).as("only the admin Service is scraped")
        .doesNotContainEntry("app.kubernetes.io/component", "admin");
    Map<String, Object> endpoint = map(list(monitor, "endpoints").get(0));
    assertThat(endpoint).containsEntry("port", "admin").containsEntry("path", "/metrics");
  }

  /**
   * The admin port (metrics, readiness, the lock API) is reachable from this namespace and the
   * monitoring namespace only; the FHIR port from anywhere the cluster routes.
   */
  @Test
  void theNetworkPolicyKeepsTheAdminPortInsideTheCluster() {
    Map<String, Object> spec = map(manifest("NetworkPolicy", "fhirwall"), "spec");
    assertThat(list(spec, "policyTypes")).containsExactly("Ingress");
    assertThat(map(manifest("Deployment", "fhirwall"), "spec", "template", "metadata", "labels"))
        .containsAllEntriesOf(map(spec, "podSelector", "matchLabels"));
    int adminRules = 0;
    for (Object r : list(spec, "ingress")) {
      List<Object> ports = list(r, "ports");
      assertThat(ports).as("every rule names its ports (a rule without ports opens all)").isNotEmpty();
      boolean admin = ports.stream().anyMatch(p -> "admin".equals(map(p).get("port")) || Integer.valueOf(9091).equals(map(p).get("port")));
      if (!admin) {
        assertThat(ports).containsExactly(Map.of("port", "fhir", "protocol", "TCP"));
        continue;
      }
      adminRules++;
      List<Object> from = list(r, "from");
      assertThat(from).as("the admin rule names who may connect").isNotEmpty();
      for (Object peer : from) {
        Map<String, Object> p = map(peer);
        assertThat(p).doesNotContainKey("ipBlock");
        if (p.containsKey("namespaceSelector")) {
          assertThat(map(p, "namespaceSelector", "matchLabels")).containsExactly(Map.entry("kubernetes.io/metadata.name", "monitoring"));
          assertThat(p).doesNotContainKey("podSelector");
        } else {
          assertThat(map(p, "podSelector")).as("same namespace").isEmpty();
        }
      }
    }
    assertThat(adminRules).isEqualTo(1);
  }

  /** What the Deployment mounts exists: its ConfigMaps and Secrets, with the keys it asks for. */
  @Test
  void everyConfigMapAndSecretTheDeploymentMountsIsShippedWithItsKeys() {
    int checked = 0;
    for (Object v : list(podSpec(), "volumes")) {
      Map<String, Object> volume = map(v);
      if (volume.containsKey("configMap")) {
        assertThat(map(manifest("ConfigMap", String.valueOf(map(volume, "configMap").get("name"))), "data")).isNotEmpty();
        checked++;
      }
      if (volume.containsKey("secret")) {
        Map<String, Object> secret = manifest("Secret", String.valueOf(map(volume, "secret").get("secretName")));
        assertThat(map(secret, "stringData")).containsKeys("tls.crt", "tls.key");
        checked++;
      }
      if (volume.containsKey("projected")) {
        for (Object source : list(map(volume, "projected"), "sources")) {
          Map<String, Object> ref = map(source, "secret");
          Map<String, Object> secret = manifest("Secret", String.valueOf(ref.get("name")));
          for (Object item : list(ref, "items")) {
            assertThat(map(secret, "stringData")).containsKey(String.valueOf(map(item).get("key")));
            checked++;
          }
        }
      }
    }
    for (Object e : list(container(), "env")) {
      Map<String, Object> var = map(e);
      if (var.containsKey("valueFrom") && map(var, "valueFrom").containsKey("secretKeyRef")) {
        Map<String, Object> ref = map(var, "valueFrom", "secretKeyRef");
        assertThat(map(manifest("Secret", String.valueOf(ref.get("name"))), "stringData")).containsKey(String.valueOf(ref.get("key")));
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(7);
  }

  /** The Deployment's environment, Kubernetes-expanded ({@code $(VAR)}), with {@code secretValues} for secretKeyRefs. */
  static Map<String, String> environment(Map<String, String> secretValues) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container(), "env")) {
      Map<String, Object> var = map(e);
      String name = String.valueOf(var.get("name"));
      if (var.containsKey("value")) {
        String value = String.valueOf(var.get("value"));
        for (Map.Entry<String, String> earlier : env.entrySet()) {
          value = value.replace("$(" + earlier.getKey() + ")", earlier.getValue());
        }
        env.put(name, value);
      } else if (map(var, "valueFrom").containsKey("fieldRef")) {
        assertThat(map(var, "valueFrom", "fieldRef").get("fieldPath")).isEqualTo("status.podIP");
        env.put(name, "10.1.2.3");
      } else {
        env.put(name, secretValues.getOrDefault(name, "secret-of-" + name));
      }
    }
    return env;
  }

  /**
   * The ConfigMap's deployment file loads with the Deployment's environment; its paths point where
   * the Deployment mounts the Secrets and ConfigMaps (stand-in files here, under {@code dir}).
   */
  @Test
  void theDeploymentFileInTheConfigMapLoadsWithTheDeploymentsEnvironmentAndMounts(@TempDir Path dir) throws Exception {
    String yaml = String.valueOf(map(manifest("ConfigMap", "fhirwall-config"), "data").get("fhirwall.yaml"));
    Map<String, String> mountDirs = new TreeMap<>();
    for (Object m : list(container(), "volumeMounts")) {
      Map<String, Object> mount = map(m);
      String path = String.valueOf(mount.get("mountPath"));
      if (!mount.containsKey("subPath") && !path.equals("/tmp")) {
        mountDirs.put(path, mount.get("name").toString());
      }
    }
    assertThat(mountDirs).containsKeys("/etc/fhirwall/policies", "/etc/fhirwall/tls", "/run/secrets/fhirwall");
    // every absolute path of the file lies in a mount; each mount becomes a directory under dir
    List<String> paths = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(":\\s+(/[^\\s]+)").matcher(yaml);
    while (m.find()) {
      paths.add(m.group(1));
    }
    assertThat(paths).hasSizeGreaterThanOrEqualTo(6);
    String local = yaml;
    for (String p : paths) {
      String mount = mountDirs.keySet().stream().filter(d -> p.equals(d) || p.startsWith(d + "/")).findFirst()
          .orElseThrow(() -> new AssertionError(p + " is under no volume mount of the Deployment"));
      Path target = dir.resolve(mount.substring(1)).resolve(mount.equals(p) ? "" : p.substring(mount.length() + 1));
      if (mount.equals("/etc/fhirwall/policies")) {
        writePolicies(target);
      } else {
        Files.createDirectories(target.getParent());
        Files.writeString(target, p.endsWith("admin-tokens") ? "ops " + "t".repeat(40) : "s".repeat(64));
      }
      local = local.replace(p, target.toString());
    }
    Path file = Files.writeString(dir.resolve("fhirwall.yaml"), local);
    Map<String, String> env = DeploymentKit.loadable(environment(Map.of("FHIRWALL_QUOTA_REDIS_URL", "redis://redis:6379")));
    DeploymentConfig c = new DeploymentLoader(env::get).load(file, DeploymentLoader.Overrides.NONE);
    assertThat(c.tls()).isNotNull();
    assertThat(c.identity().issuer()).isEqualTo("https://sso.hospital.example/realms/fhirwall");
    assertThat(c.admin().tokenFile()).isNotNull();
    assertThat(c.admin().hosts()).as("Prometheus scrapes the pod's address").containsExactly("10.1.2.3");
    assertThat(c.paging().secretFile()).isNotNull();
    assertThat(c.audit().stdout()).isTrue();
    assertThat(c.warnings()).isEmpty();
    if (DeploymentKit.clusterKeysKnown()) {
      assertThat(c.quota().store()).isEqualTo("redis");
    }
    PolicySet policies = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes(), c.nonMfaAcr()).loadDirectory(c.policies());
    assertThat(policies.roles()).hasSize(shippedPolicies().size());
  }

  private static Map<String, String> shippedPolicies() throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(POLICIES.resolve("roles"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        out.put(f.getFileName().toString(), Files.readString(f));
      }
    }
    return out;
  }

  /** Writes the policies ConfigMap the way kubelet does: files are links through {@code ..data} to a timestamped directory. */
  private static void writePolicies(Path dir) throws Exception {
    Path real = Files.createDirectories(dir.resolve("..2026_12_01_10_00_00.123456789"));
    Files.createSymbolicLink(dir.resolve("..data"), real.getFileName());
    for (Map.Entry<String, Object> e : map(manifest("ConfigMap", "fhirwall-policies"), "data").entrySet()) {
      Files.writeString(real.resolve(e.getKey()), String.valueOf(e.getValue()));
      Files.createSymbolicLink(dir.resolve(e.getKey()), Path.of("..data").resolve(e.getKey()));
    }
  }

  @Test
  void thePoliciesConfigMapHoldsExactlyTheShippedPolicies() throws Exception {
    Map<String, Object> data = map(manifest("ConfigMap", "fhirwall-policies"), "data");
    Map<String, String> asShipped = new HashMap<>();
    data.forEach((k, v) -> asShipped.put(k, String.valueOf(v)));
    assertThat(asShipped).isEqualTo(shippedPolicies());
  }

  /** kubelet's layout of a ConfigMap volume (links through ..data) loads like a plain directory. */
  @Test
  void thePoliciesLoadFromAConfigMapVolume(@TempDir Path dir) throws Exception {
    writePolicies(dir);
    PolicySet set = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).loadDirectory(dir);
    assertThat(set.roles()).hasSize(shippedPolicies().size());
  }

  @Test
  void thePlaceholderSecretsAreRefusedAtStart() {
    Map<String, Object> tokens = map(manifest("Secret", "fhirwall-admin-tokens"), "stringData");
    assertThat(String.valueOf(tokens.get("admin-tokens")).length()).as("shorter than an operator token may be").isLessThan(32);
    Map<String, Object> paging = map(manifest("Secret", "fhirwall-paging-key"), "stringData");
    assertThat(String.valueOf(paging.get("paging-key")).length()).as("shorter than a paging key may be").isLessThan(32);
    assertThat(read(DOCKER.resolve("k8s/secrets.yaml"))).contains("kubectl -n fhirwall create secret tls fhirwall-tls");
  }
}
