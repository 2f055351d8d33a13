package org.fhirwall.it.docker;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fhirwall.demo.DemoFhirServer;
import org.fhirwall.demo.DemoStore;
import org.fhirwall.it.keycloak.KeycloakExtension;
import org.fhirwall.it.keycloak.KeycloakServer;
import org.fhirwall.it.keycloak.TestRealm;
import org.fhirwall.it.keycloak.TestUser;
import org.fhirwall.quota.RedisProcess;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/walkthrough.md, step by step, with what compose would run made of real processes: the
 * run's Keycloak (which imports the shipped realm and, beside it, the walkthrough's users file, as
 * compose does), a HAPI FHIR server seeded by docker/epr/seed.sh, the secrets made by
 * docker/make-secrets.sh, fhirwall started with the image's ENTRYPOINT (its JVM flags, the epoll
 * library on java.library.path) and docker/fhirwall.yaml with a replica's environment, the image's
 * HEALTHCHECK command, and HAProxy with docker/haproxy/haproxy.cfg in front (replica 2 never comes
 * up: the load balancer must not send to it). Then the walkthrough: log in with password and OTP
 * (docker/walkthrough/login.sh, which has Keycloak bind the token to a DPoP key, as the shipped
 * clinical roles require), read a chart with fresh proofs of that key (docker/walkthrough/dpop.py)
 * while the same token as a bearer token or without a proof is refused, be refused an unselective
 * search, page past the physician's hourly limit and be locked, and have an operator lift the lock.
 *
 * <p>One replica, in cluster mode as compose runs it: the quota store is a Redis of the test's own
 * (never the machine's), at the address compose's {@code FHIRWALL_QUOTA_REDIS_URL} names on its
 * network; the lock the walkthrough sets lives there.
 */
@ExtendWith(KeycloakExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeploymentKitIT {
  static final Duration READY_WITHIN = Duration.ofSeconds(90);
  @TempDir static Path dir;
  static KeycloakServer keycloak;
  static DemoFhirServer epr;
  static Process fhirwall;
  static RedisProcess redis;
  static @Nullable Process haproxy;
  static int fhirwallPort;
  static int adminPort;
  static int lbPort;
  static Path haproxySocket;
  static Path nettyWorkdir;
  static String base;
  static Path secrets;
  /** The walkthrough physician's DPoP key (login.sh makes it; never in the checkout). */
  static Path dpopKey;
  static @Nullable String token;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startTheStack(KeycloakServer server) throws Exception {
    keycloak = server;
    assertThat(Kit.PRODUCT_JAR).as("the product jar (mvn package)").isRegularFile();

    // The EPR, seeded by the script compose's epr-seed runs.
    epr = DemoFhirServer.start(DemoStore.empty(Clock.systemUTC()), 0);
    Command.Result seed = Command.of(Kit.REPO, List.of("sh", Kit.DOCKER.resolve("epr/seed.sh").toString(), epr.baseUrl())).run(300);
    assertThat(seed.exit()).as(seed.describe()).isZero();

    // The secrets, made by the kit's script (a copy, so it writes under dir and not into the checkout).
    Path scripts = Files.createDirectories(dir.resolve("docker"));
    Files.copy(Kit.DOCKER.resolve("make-secrets.sh"), scripts.resolve("make-secrets.sh"));
    Command.Result made = Command.of(dir, List.of("bash", scripts.resolve("make-secrets.sh").toString(), "walkthrough-operator")).run(60);
    assertThat(made.exit()).as(made.describe()).isZero();
    secrets = scripts.resolve("secrets");

    fhirwallPort = Kit.freePort();
    adminPort = Kit.freePort();
    lbPort = Kit.freePort();
    Haproxy.binary().ifPresent(h -> haproxy = startHaproxy(h));
    base = "http://127.0.0.1:" + (haproxy != null ? lbPort : fhirwallPort) + "/fhir";
    redis = RedisProcess.start();
    fhirwall = startFhirwall();
    awaitHealthy();
    if (haproxy != null) {
      awaitLoadBalancer();
    }
  }

  /** The image's ENTRYPOINT, with the image's paths mapped onto this checkout and the build. */
  static Process startFhirwall() throws IOException {
    Path native_ = Kit.extractEpollLibrary(dir.resolve("opt-fhirwall-native"));
    nettyWorkdir = Files.createDirectories(dir.resolve("netty-workdir"));
    List<String> entrypoint = Kit.dockerfileExecForm("ENTRYPOINT");
    List<String> argv = new ArrayList<>();
    for (String a : entrypoint) {
      argv.add(switch (a) {
        case "java" -> Path.of(System.getProperty("java.home"), "bin", "java").toString();
        case "-Djava.library.path=/opt/fhirwall/native" -> "-Djava.library.path=" + native_.getParent();
        case "/opt/fhirwall/fhirwall.jar" -> Kit.PRODUCT_JAR.toString();
        case "/etc/fhirwall/fhirwall.yaml" -> Kit.DOCKER.resolve("fhirwall.yaml").toString();
        default -> a;
      });
    }
    // Netty would extract its library here if it could not load it from java.library.path.
    argv.add(1, "-Dio.netty.native.workdir=" + nettyWorkdir);
    argv.add(2, "-Dio.netty.native.deleteLibAfterLoading=false");
    assertThat(argv).as("every image path mapped").noneMatch(a -> a.contains("/opt/fhirwall") || a.contains("/etc/fhirwall"));

    Map<String, String> env = new HashMap<>(Kit.clusterReplicaEnvironment());
    assertThat(env).containsEntry("FHIRWALL_QUOTA_STORE", "redis").containsEntry("FHIRWALL_QUOTA_REDIS_URL", "redis://redis:6379");
    env.put("FHIRWALL_QUOTA_REDIS_URL", redis.url());
    env.put("FHIRWALL_PUBLIC_BASE_URL", base);
    env.put("EPR_FHIR_BASE_URL", epr.baseUrl());
    env.put("OIDC_ISSUER", keycloak.issuer());
    env.put("OIDC_JWKS_URI", keycloak.jwksUri());
    // where the container has its mounts and ports, this machine has these
    env.put("FHIRWALL_LISTEN", "127.0.0.1:" + fhirwallPort);
    env.put("FHIRWALL_ADMIN_LISTEN", "127.0.0.1:" + adminPort);
    env.put("FHIRWALL_POLICIES", Kit.DOCKER.resolve("walkthrough/policies").toString());
    env.put("FHIRWALL_AUDIT_FILE", dir.resolve("audit.jsonl").toString());
    env.put("FHIRWALL_ADMIN_TOKEN_FILE", secrets.resolve("admin-tokens").toString());
    env.put("FHIRWALL_PAGING_SECRET_FILE", secrets.resolve("paging-key").toString());
    return new Command(argv, dir, env).start(dir.resolve("fhirwall.log"));
  }

  /** docker/haproxy/haproxy.cfg with this machine's addresses for the replicas (the second one dead) and a stats socket. */
  static Process startHaproxy(Path binary) {
    int dead = Kit.freePort();
    haproxySocket = dir.resolve("haproxy.sock");
    String cfg = Kit.read(Kit.DOCKER.resolve("haproxy/haproxy.cfg"))
        .replace("bind :8080", "bind 127.0.0.1:" + lbPort)
        .replace("fhirwall-1:8080 check port 9091", "127.0.0.1:" + fhirwallPort + " check port " + adminPort)
        .replace("fhirwall-2:8080 check port 9091", "127.0.0.1:" + dead + " check port " + dead)
        .replace("\nglobal\n", "\nglobal\n    stats socket " + haproxySocket + " mode 600 level user\n");
    assertThat(cfg).doesNotContain("fhirwall-1:", "fhirwall-2:", "bind :");
    try {
      Path file = Files.writeString(dir.resolve("haproxy.cfg"), cfg);
      return Command.of(dir, List.of(binary.toString(), "-db", "-f", file.toString())).start(dir.resolve("haproxy.log"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The image's HEALTHCHECK command, on this replica's admin port. */
  static Command.Result healthCheck() {
    List<String> check = new ArrayList<>();
    for (String a : Kit.dockerfileExecForm("HEALTHCHECK")) {
      check.add(a.replace("127.0.0.1:9091", "127.0.0.1:" + adminPort));
    }
    return Command.of(dir, check).run(30);
  }

  static void awaitHealthy() throws Exception {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    Command.Result last = healthCheck();
    while (last.exit() != 0 && System.nanoTime() < deadline && fhirwall.isAlive()) {
      Thread.sleep(500);
      last = healthCheck();
    }
    assertThat(last.exit()).as("fhirwall ready (health check: %s); log:\n%s", last.describe(), Kit.read(dir.resolve("fhirwall.log")))
        .isZero();
  }

  /** HAProxy's own view of its servers, from its stats socket: server name to status. */
  static Map<String, String> haproxyServers() throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(haproxySocket));
      ch.write(ByteBuffer.wrap("show stat\n".getBytes(UTF_8)));
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      StringBuilder out = new StringBuilder();
      while (ch.read(buf) > 0) {
        buf.flip();
        out.append(UTF_8.decode(buf));
        buf.clear();
      }
      Map<String, String> servers = new HashMap<>();
      for (String line : out.toString().split("\n")) {
        String[] f = line.split(",");
        if (f.length > 17 && f[0].equals("fhirwall") && f[1].startsWith("fhirwall-")) {
          servers.put(f[1], f[17]);
        }
      }
      return servers;
    }
  }

  static void awaitLoadBalancer() throws Exception {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    Map<String, String> servers = haproxyServers();
    while (!(servers.getOrDefault("fhirwall-1", "").startsWith("UP") && servers.getOrDefault("fhirwall-2", "").startsWith("DOWN"))
        && System.nanoTime() < deadline && haproxy.isAlive()) {
      Thread.sleep(500);
      servers = haproxyServers();
    }
    assertThat(servers).as("haproxy's health checks; log:\n%s", Kit.read(dir.resolve("haproxy.log")))
        .containsEntry("fhirwall-1", "UP").hasEntrySatisfying("fhirwall-2", s -> assertThat(s).startsWith("DOWN"));
  }

  @AfterAll
  static void stopTheStack() {
    if (haproxy != null) {
      Command.stop(haproxy);
    }
    if (fhirwall != null) {
      Command.stop(fhirwall);
    }
    if (epr != null) {
      epr.close();
    }
    if (redis != null) {
      try {
        redis.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A GET with {@code authorization} (null: none) and {@code proof} as the DPoP header (null: none). */
  HttpResponse<String> get(String url, @Nullable String authorization, @Nullable String proof) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).header("Accept", "application/fhir+json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (proof != null) {
      b.header("DPoP", proof);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** As the walkthrough's curl commands send it: {@code Authorization: DPoP} and a fresh proof from docker/walkthrough/dpop.py. */
  HttpResponse<String> get(String url) throws Exception {
    return get(url, "DPoP " + token(), proof("GET", url, token()));
  }

  /** {@code dpop.py proof} of the walkthrough's key for one request. */
  static String proof(String method, String url, String accessToken) {
    return Walkthrough.proof(dpopKey, method, url, accessToken);
  }

  HttpResponse<String> admin(String method, String path) throws Exception {
    String line = Files.readAllLines(secrets.resolve("admin-tokens")).get(0);
    String operatorToken = line.substring(line.lastIndexOf(' ') + 1);
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + operatorToken).method(method, HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String token() {
    assertThat(token).as("the login step ran first").isNotNull();
    return token;
  }

  @Test
  @Order(1)
  void theImagesHealthCheckPassesAndNettyLoadsItsLibraryFromTheImage() throws Exception {
    assertThat(healthCheck().exit()).isZero();
    try (var extracted = Files.list(nettyWorkdir)) {
      assertThat(extracted.toList()).as("epoll loaded from java.library.path, nothing extracted: the root can be read-only").isEmpty();
    }
    assertThat(Kit.read(dir.resolve("fhirwall.log"))).doesNotContain("ERROR");
  }

  @Test
  @Order(2)
  void keycloaksComposeHealthCheckSeesItReady() {
    List<String> test = Kit.composeHealthCheck("keycloak");
    assertThat(test.subList(0, 3)).containsExactly("CMD", "bash", "-c");
    // compose turns $$ into $; the management port is 9000 in the container
    String script = test.get(3).replace("$$", "$").replace("/dev/tcp/127.0.0.1/9000", "/dev/tcp/127.0.0.1/" + keycloak.managementUri().getPort());
    Command.Result r = Command.of(dir, List.of("bash", "-c", script)).run(30);
    assertThat(r.exit()).as(r.describe()).isZero();
    // and it fails where nothing is ready
    String nowhere = test.get(3).replace("$$", "$").replace("/dev/tcp/127.0.0.1/9000", "/dev/tcp/127.0.0.1/" + Kit.freePort());
    assertThat(Command.of(dir, List.of("bash", "-c", nowhere)).run(30).exit()).isNotZero();
  }

  /**
   * Step 2 of the walkthrough: the user of the walkthrough's import logs in with password and OTP,
   * and Keycloak binds the access token to the DPoP key login.sh made (cnf.jkt, RFC 9449).
   */
  @Test
  @Order(3)
  void theWalkthroughUserLogsInWithPasswordAndOtp() throws Exception {
    TestUser user = TestRealm.walkthroughUser();
    dpopKey = Files.createDirectories(dir.resolve("device")).resolve("dpop-key.pem");
    token = Walkthrough.token(keycloak, dpopKey);
    assertThat(Files.getPosixFilePermissions(dpopKey)).as("login.sh made the key, its owner's only")
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    JsonNode claims = Kit.claims(token);
    assertThat(claims.path("cnf").path("jkt").asText()).as("the token is bound to the key login.sh made")
        .isNotEmpty().isEqualTo(Walkthrough.thumbprint(dpopKey));
    assertThat(claims.path("preferred_username").asText()).isEqualTo(user.username());
    assertThat(claims.path("amr").toString()).contains("\"pwd\"", "\"otp\"");
    assertThat(claims.has("auth_time")).as("a browser login: the physician policy asks for its age").isTrue();
    assertThat(claims.path("realm_access").path("roles").toString()).contains("physician");
    assertThat(claims.path("iss").asText()).isEqualTo(keycloak.issuer());

    // a wrong code is refused by Keycloak, and the script says so
    Command.Result wrong = Walkthrough.login(keycloak, user, "000000", dpopKey);
    assertThat(wrong.exit()).isNotZero();
    assertThat(wrong.err()).contains("OTP code refused");
  }

  /**
   * Step 3: fhirwall (behind the load balancer) accepts the DPoP-bound token with fresh proofs of
   * its key; a chart is read; a fishing search is refused. The same token as a bearer token, without
   * a proof, or with a proof used before is refused (401): the shipped physician role requires DPoP.
   */
  @Test
  @Order(4)
  void thePhysicianReadsAChartThroughTheLoadBalancer() throws Exception {
    String search = base + "/Patient?family=Walker&birthdate=1961-03-14";
    HttpResponse<String> none = get(search, null, null);
    assertThat(none.statusCode()).isEqualTo(401);

    HttpResponse<String> found = get(search);
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    assertThat(found.body()).contains("\"id\":\"walk-01\"");

    HttpResponse<String> asBearer = get(search, "Bearer " + token(), null);
    HttpResponse<String> bearerWithProof = get(search, "Bearer " + token(), proof("GET", search, token()));
    HttpResponse<String> noProof = get(search, "DPoP " + token(), null);
    String used = proof("GET", search, token());
    assertThat(get(search, "DPoP " + token(), used).statusCode()).isEqualTo(200);
    HttpResponse<String> replayed = get(search, "DPoP " + token(), used);
    HttpResponse<String> otherUrl = get(search, "DPoP " + token(), proof("GET", base + "/Patient/walk-01", token()));
    for (HttpResponse<String> r : List.of(asBearer, bearerWithProof, noProof, replayed, otherUrl)) {
      assertThat(r.statusCode()).as("the bound token without a good proof: %s", r.body()).isEqualTo(401);
      assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"", "\"id\":\"walk-01\"");
      assertThat(r.headers().allValues("WWW-Authenticate")).as("the challenge names DPoP").anyMatch(v -> v.startsWith("DPoP "));
    }

    HttpResponse<String> observations = get(base + "/Observation?subject=Patient/walk-01");
    assertThat(observations.statusCode()).as(observations.body()).isEqualTo(200);
    assertThat(Kit.json(observations.body()).path("entry")).hasSize(2);

    HttpResponse<String> chart = get(base + "/Patient/walk-01");
    assertThat(chart.statusCode()).isEqualTo(200);

    HttpResponse<String> conditions = get(base + "/Condition?patient=Patient/walk-01");
    assertThat(conditions.statusCode()).as(conditions.body()).isEqualTo(200);
    assertThat(conditions.body()).contains("Hypertensive disorder");

    HttpResponse<String> fishing = get(base + "/Patient?_count=20");
    assertThat(fishing.statusCode()).as(fishing.body()).isEqualTo(403);
    assertThat(fishing.body()).contains("OperationOutcome");
  }

  /**
   * Step 4: paging through the 50 Walkers, the page that would take the physician past 40 patients
   * in an hour is refused and the account locked; step 5: an operator lists and lifts the lock with
   * the token make-secrets.sh wrote.
   */
  @Test
  @Order(5)
  void pagingPastTheHourlyLimitIsRefusedAndLocksUntilAnOperatorUnlocks() throws Exception {
    String url = base + "/Patient?family=Walker&_count=20";
    List<Integer> statuses = new ArrayList<>();
    for (int page = 0; page < 5 && url != null; page++) {
      HttpResponse<String> r = get(url);
      statuses.add(r.statusCode());
      url = null;
      if (r.statusCode() == 200) {
        for (JsonNode link : Kit.json(r.body()).path("link")) {
          if (link.path("relation").asText().equals("next")) {
            url = link.path("url").asText();
          }
        }
        assertThat(url).as("fhirwall's next link points at the public base URL").startsWith(base);
      }
    }
    assertThat(statuses).containsExactly(200, 200, 429);
    assertThat(get(base + "/Patient/walk-01").statusCode()).as("locked").isEqualTo(429);
    assertThat(redis.command("ZCARD", "fhirwall:locks")).as("the lock is in the replicas' shared Redis").isEqualTo(":1");

    HttpResponse<String> locks = admin("GET", "/locks");
    assertThat(locks.statusCode()).as(locks.body()).isEqualTo(200);
    String account = keycloak.issuer() + "|" + Kit.claims(token()).path("sub").asText();
    List<String> accounts = new ArrayList<>();
    Kit.json(locks.body()).path("locks").forEach(l -> accounts.add(l.path("account").asText()));
    assertThat(accounts).contains(account);

    HttpResponse<String> unlock = admin("DELETE", "/locks/" + URLEncoder.encode(account, UTF_8));
    assertThat(unlock.statusCode()).as(unlock.body()).isEqualTo(200);
    // the audit trail is written off the request path: wait for the record, then read it
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Kit.read(dir.resolve("audit.jsonl")).contains("walkthrough-operator") && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(Kit.read(dir.resolve("audit.jsonl"))).as("the unlock is audited with the operator's name").contains("walkthrough-operator");
  }

  /** `fhirwall validate` (the real command, in its own JVM) accepts the image's deployment file with a replica's environment. */
  @Test
  @Order(6)
  void fhirwallValidateAcceptsTheDeploymentFileWithTheComposeEnvironment() {
    Map<String, String> env = new HashMap<>(Kit.clusterReplicaEnvironment());
    env.put("FHIRWALL_POLICIES", Kit.DOCKER.resolve("walkthrough/policies").toString());
    env.put("FHIRWALL_AUDIT_FILE", dir.resolve("validate-audit.jsonl").toString());
    env.put("FHIRWALL_ADMIN_TOKEN_FILE", secrets.resolve("admin-tokens").toString());
    env.put("FHIRWALL_PAGING_SECRET_FILE", secrets.resolve("paging-key").toString());
    Command.Result r = Command.of(Kit.REPO, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        Kit.PRODUCT_JAR.toString(), "validate", Kit.DOCKER.resolve("fhirwall.yaml").toString())).with(env).run(120);
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).contains("deployment file OK (upstream http://epr:8080/fhir, issuer http://localhost:8180/realms/fhirwall)")
        .contains("role physician OK").doesNotContain("warning");
  }

  /** Last: once fhirwall is gone, the image's health check says so (and HAProxy takes the replica out). */
  @Test
  @Order(7)
  void theHealthCheckFailsOnceFhirwallStops() throws Exception {
    Command.stop(fhirwall);
    assertThat(healthCheck().exit()).isNotZero();
    assumeTrue(haproxy != null, "no haproxy here");
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    while (!haproxyServers().getOrDefault("fhirwall-1", "").startsWith("DOWN") && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    assertThat(haproxyServers().get("fhirwall-1")).startsWith("DOWN");
    assertThat(get(base + "/Patient/walk-01").statusCode()).as("no replica ready: HAProxy answers 503").isEqualTo(503);
  }
}
