package org.fhirwall.it.docker;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The files of docker/ and the built product jar, as these tests use them. */
final class Kit {
  static final Path DOCKER = Path.of(System.getProperty("fhirwall.docker.dir", "../docker")).toAbsolutePath().normalize();
  static final Path REPO = DOCKER.getParent();
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies")).toAbsolutePath().normalize();
  static final Path PRODUCT_JAR = Path.of(System.getProperty("fhirwall.jar", "../proxy/target/fhirwall.jar")).toAbsolutePath().normalize();
  /** The cluster-mode variables of the replicas (quota store in Redis). */
  static final Set<String> CLUSTER_VARIABLES = Set.of("FHIRWALL_QUOTA_STORE", "FHIRWALL_QUOTA_REDIS_URL",
      "FHIRWALL_QUOTA_ON_STORE_FAILURE", "FHIRWALL_QUOTA_REPLICAS");
  /** The epoll library the Dockerfile copies beside the jar (x86_64, the one the jar carries). */
  static final String EPOLL_LIBRARY = "META-INF/native/libnetty_transport_native_epoll_x86_64.so";

  private Kit() {}

  static String read(Path file) {
    try {
      return Files.readString(file, UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The exec-form array of the Dockerfile instruction {@code keyword} (continuation lines joined). */
  static List<String> dockerfileExecForm(String keyword) {
    String text = read(DOCKER.resolve("Dockerfile")).replaceAll("\\\\\\n\\s*", " ");
    List<String> found = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith(keyword + " ")) {
        found.add(line.substring(line.indexOf('[')));
      }
    }
    if (found.size() != 1) {
      throw new AssertionError(found.size() + " " + keyword + " instructions (expected: 1)");
    }
    try {
      List<String> out = new ArrayList<>();
      new ObjectMapper().readTree(found.get(0)).forEach(n -> out.add(n.asText()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> compose(String file) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(read(DOCKER.resolve(file)));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> service(Map<String, Object> compose, String name) {
    return (Map<String, Object>) ((Map<String, Object>) compose.get("services")).get(name);
  }

  /** A replica's environment in compose.yaml, without the cluster variables (one replica, local store). */
  static Map<String, String> replicaEnvironment() {
    Map<String, String> env = clusterReplicaEnvironment();
    env.keySet().removeAll(CLUSTER_VARIABLES);
    return env;
  }

  /** A replica's environment in compose.yaml, as it is: the quota store in Redis. */
  @SuppressWarnings("unchecked")
  static Map<String, String> clusterReplicaEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    ((Map<String, Object>) service(compose("compose.yaml"), "fhirwall-1").get("environment"))
        .forEach((k, v) -> env.put(k, String.valueOf(v)));
    return env;
  }

  /** The {@code test} command of a compose service's health check. */
  @SuppressWarnings("unchecked")
  static List<String> composeHealthCheck(String service) {
    Map<String, Object> check = (Map<String, Object>) service(compose("compose.yaml"), service).get("healthcheck");
    return List.copyOf((List<String>) check.get("test"));
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies Netty's epoll library out of the product jar into {@code dir}, as the Dockerfile's build stage does. */
  static Path extractEpollLibrary(Path dir) throws IOException {
    Files.createDirectories(dir);
    try (ZipFile jar = new ZipFile(PRODUCT_JAR.toFile())) {
      ZipEntry entry = jar.getEntry(EPOLL_LIBRARY);
      if (entry == null) {
        throw new AssertionError(PRODUCT_JAR + " has no " + EPOLL_LIBRARY + " (the Dockerfile copies it from there)");
      }
      Path target = dir.resolve(Path.of(EPOLL_LIBRARY).getFileName().toString());
      Files.copy(jar.getInputStream(entry), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return target;
    }
  }

  static JsonNode json(String text) {
    try {
      return new ObjectMapper().readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The claims of a JWT (not verified: fhirwall does that). */
  static JsonNode claims(String jwt) {
    String[] parts = jwt.split("\\.");
    return json(new String(java.util.Base64.getUrlDecoder().decode(parts[1]), UTF_8));
  }
}
