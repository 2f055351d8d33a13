package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoFhirServer;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.demo.DemoStore;
import org.fhirwall.quota.RedisProcess;
import org.fhirwall.server.Fhirwall;

/**
 * Real parts for the cluster tests: one EPR (the demo's HAPI FHIR server over synthetic patients),
 * the demo token issuer, a Redis of the test's own ({@link RedisProcess}: never the machine's
 * shared one) and any number of fhirwall replicas started with {@link Fhirwall#start}, each with its
 * own deployment file, audit file and admin port, all with the integration-test policies. Counts
 * the patients a client was shown from the bodies it received.
 */
final class Replicas implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final DemoStore store;
  final DemoFhirServer epr;
  final DemoIssuer issuer;
  final RedisProcess redis;
  final String operatorToken = UUID.randomUUID() + "-" + UUID.randomUUID();
  private final List<Replica> started = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A running replica: its public base URL, its audit file and its admin address. */
  record Replica(Fhirwall fhirwall, String base, Path audit, String admin) {}

  private Replicas(Path dir, DemoStore store, DemoFhirServer epr, DemoIssuer issuer, RedisProcess redis) {
    this.dir = dir;
    this.store = store;
    this.epr = epr;
    this.issuer = issuer;
    this.redis = redis;
  }

  /** The EPR, the issuer and Redis; {@code redisOptions} are extra {@code redis-server} arguments. */
  static Replicas start(int patients, String... redisOptions) throws Exception {
    Path dir = Files.createTempDirectory("fhirwall-replicas");
    DemoStore store = DemoStore.withSyntheticData(11, patients, Clock.systemUTC());
    DemoFhirServer epr = DemoFhirServer.start(store, 0);
    DemoIssuer issuer = DemoIssuer.start();
    RedisProcess redis;
    try {
      redis = RedisProcess.start(redisOptions);
    } catch (Exception e) {
      epr.close();
      issuer.close();
      throw e;
    }
    Files.writeString(dir.resolve("admin-tokens"), "operator " + UUID.randomUUID() + UUID.randomUUID() + "\n");
    return new Replicas(dir, store, epr, issuer, redis);
  }

  /** A replica with these {@code quota} keys (YAML lines under {@code quota:}, indented by two). */
  Replica replica(String name, String quotaYaml) throws Exception {
    int port = freePort();
    Path tokens = dir.resolve("admin-tokens");
    Files.writeString(tokens, "operator " + operatorToken + "\n");
    Path audit = dir.resolve(name + "-audit.jsonl");
    Path deployment = dir.resolve(name + ".yaml");
    Files.writeString(deployment, """
        listen: 127.0.0.1:%d
        public-base-url: http://127.0.0.1:%d/fhir
        upstream:
          url: %s
        identity:
          issuer: %s
          audience: [fhirwall]
          clients: [fhirwall-web]
        policies: %s
        audit:
          file: %s
        admin:
          listen: 127.0.0.1:0
          token-file: %s
        quota:
        %s
        """.formatted(port, port, epr.baseUrl(), issuer.issuer(), ItEnvironment.policies(), audit, tokens,
        quotaYaml.indent(2).stripTrailing()), UTF_8);
    DeploymentConfig config = new DeploymentLoader(n -> null).load(deployment, DeploymentLoader.Overrides.NONE);
    Fhirwall f = Fhirwall.start(config, new Fhirwall.Options(Clock.systemUTC(), null, 2, 0));
    Replica r = new Replica(f, config.publicBaseUrl().toString(), audit, "http://127.0.0.1:" + f.adminAddress().getPort());
    started.add(r);
    return r;
  }

  /**
   * A replica sharing the test's Redis; {@code timeout} is {@code quota.redis.timeout} (generous
   * where a test is about counting, not faults: the machine is shared).
   */
  Replica shared(String name, String onFailure, String timeout) throws Exception {
    return replica(name, """
        store: redis
        on-store-failure: %s
        replicas: 2
        redis:
          url: %s
          timeout: %s
          start-wait: 10s
        """.formatted(onFailure, redis.url(), timeout));
  }

  void stop(Replica r) {
    r.fhirwall().close();
    started.remove(r);
  }

  String token(String user, String... roles) {
    return issuer.mint(new DemoIssuer.Claims("sub-" + user, user, Set.of(roles), "1", List.of("pwd", "otp"),
        Instant.now().minusSeconds(60), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(30)));
  }

  String account(String user) {
    return issuer.issuer() + "|sub-" + user;
  }

  /** A GET through a replica; {@code pathOrUrl} relative to its base, or absolute. Times out after 10 s. */
  HttpResponse<String> get(Replica r, String pathOrUrl, String token) throws Exception {
    URI uri = URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : r.base() + "/" + pathOrUrl);
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + token)
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The admin API's {@code GET /locks} of a replica, as text. */
  String locks(Replica r) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(r.admin() + "/locks")).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + operatorToken).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The admin API's {@code GET /ready} of a replica: its status code and its report. */
  HttpResponse<String> ready(Replica r) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(r.admin() + "/ready")).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The admin API's {@code GET /metrics} of a replica (Prometheus text). */
  String metrics(Replica r) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(r.admin() + "/metrics")).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** A paging link of one replica, sent to another: the same {@code _fwpage} token on the other's base. */
  static String onReplica(String link, Replica other) {
    return other.base() + link.substring(link.indexOf('?'));
  }

  /** The patients a FHIR JSON body shows (a Patient, or a Bundle's Patient entries). */
  static Set<String> patientsIn(String body) throws IOException {
    Set<String> out = new LinkedHashSet<>();
    JsonNode root = JSON.readTree(body);
    if ("Patient".equals(root.path("resourceType").asText())) {
      out.add(root.path("id").asText());
    }
    for (JsonNode e : root.path("entry")) {
      JsonNode res = e.path("resource");
      if ("Patient".equals(res.path("resourceType").asText())) {
        out.add(res.path("id").asText());
      }
    }
    return out;
  }

  /** The Bundle's {@code next} link, or null. */
  static String next(String body) throws IOException {
    for (JsonNode l : JSON.readTree(body).path("link")) {
      if ("next".equals(l.path("relation").asText())) {
        return l.path("url").asText();
      }
    }
    return null;
  }

  /** Polls until {@code condition} holds; fails with {@code what} after {@code within}. */
  static void await(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited %s for: %s", within, what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws Exception {
    for (Replica r : List.copyOf(started)) {
      try {
        r.fhirwall().close();
      } catch (RuntimeException e) {
        // keep closing the rest
      }
    }
    redis.close();
    epr.close();
    issuer.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
