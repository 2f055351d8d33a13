package org.fhirwall.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.server.Fhirwall;
import org.jspecify.annotations.Nullable;

/**
 * Everything the demo runs, on loopback only: the EPR (a HAPI FHIR server over synthetic
 * patients), the demo token issuer, a webhook that receives fhirwall's alerts, and fhirwall itself
 * with the demo policies (or the policies given). Closing it stops all of them and deletes the
 * working directory.
 */
public final class DemoEnvironment implements AutoCloseable {
  /** The role policies packaged in the jar for the demo (copied from {@code policies/demo/}). */
  static final String POLICY_RESOURCE_DIR = "org/fhirwall/demo/policies/";
  static final List<String> POLICY_FILES = List.of("clinician.yaml");

  /**
   * What to start.
   *
   * @param patients how many synthetic patients the EPR holds
   * @param seed the synthetic data seed (same seed, same patients)
   * @param policies a directory of role policies, or null for the packaged demo policies
   */
  public record Settings(int patients, long seed, @Nullable Path policies) {
    public Settings {
      if (patients < 1) {
        throw new IllegalArgumentException("patients: " + patients + " (expected: >= 1)");
      }
    }
  }

  private final List<AutoCloseable> started;
  private final Path workDir;
  private final DemoStore store;
  private final DemoFhirServer epr;
  private final DemoIssuer issuer;
  private final Fhirwall fhirwall;
  private final DeploymentConfig config;
  private final List<String> alerts;

  private DemoEnvironment(List<AutoCloseable> started, Path workDir, DemoStore store, DemoFhirServer epr, DemoIssuer issuer,
      Fhirwall fhirwall, DeploymentConfig config, List<String> alerts) {
    this.started = started;
    this.workDir = workDir;
    this.store = store;
    this.epr = epr;
    this.issuer = issuer;
    this.fhirwall = fhirwall;
    this.config = config;
    this.alerts = alerts;
  }

  public static DemoEnvironment start(Settings settings) throws IOException, ConfigException, InterruptedException {
    List<AutoCloseable> started = new ArrayList<>();
    Path workDir = Files.createTempDirectory("fhirwall-demo");
    started.add(() -> deleteTree(workDir));
    try {
      DemoStore store = DemoStore.withSyntheticData(settings.seed(), settings.patients(), Clock.systemUTC());
      DemoFhirServer epr = DemoFhirServer.start(store, 0);
      started.add(epr);
      DemoIssuer issuer = DemoIssuer.start();
      started.add(issuer);
      List<String> alerts = new CopyOnWriteArrayList<>();
      HttpServer webhook = alertReceiver(alerts);
      started.add(() -> webhook.stop(0));

      Path policies = settings.policies();
      if (policies == null) {
        policies = Files.createDirectories(workDir.resolve("policies"));
        for (String name : POLICY_FILES) {
          try (InputStream in = DemoEnvironment.class.getClassLoader().getResourceAsStream(POLICY_RESOURCE_DIR + name)) {
            if (in == null) {
              throw new IOException("demo policy " + name + " missing from the jar");
            }
            Files.copy(in, policies.resolve(name));
          }
        }
      }
      int port = freePort();
      String operatorToken = randomToken();
      Path tokens = Files.writeString(workDir.resolve("admin-tokens"), "demo " + operatorToken + "\n", UTF_8);
      Path deployment = workDir.resolve("fhirwall.yaml");
      Files.writeString(deployment, """
          # written by fhirwall demo
          listen: 127.0.0.1:%d
          public-base-url: http://127.0.0.1:%d/fhir
          upstream:
            url: %s
            max-page-size: %d
          identity:
            issuer: %s
            audience: [fhirwall]
            clients: [fhirwall-web, research-export]
          policies: %s
          audit:
            file: %s
          alerts:
            webhook: http://127.0.0.1:%d/alerts
          admin:
            listen: 127.0.0.1:0
            token-file: %s
          # care relationships, learned from the EPR: the default searches (encounters, care teams,
          # episodes of care, wards); a relationship written less than an hour ago explains nobody yet
          relationships:
            write-delay: 1h
          """.formatted(port, port, epr.baseUrl(), DemoFhirServer.MAXIMUM_PAGE_SIZE, issuer.issuer(), policies.toAbsolutePath(),
          workDir.resolve("audit.jsonl").toAbsolutePath(), webhook.getAddress().getPort(), tokens.toAbsolutePath()), UTF_8);
      DeploymentConfig config = new DeploymentLoader(name -> null).load(deployment, DeploymentLoader.Overrides.NONE);
      Fhirwall fhirwall = Fhirwall.start(config, new Fhirwall.Options(Clock.systemUTC(), null, 0, 0));
      started.add(fhirwall);
      return new DemoEnvironment(started, workDir, store, epr, issuer, fhirwall, config, alerts);
    } catch (IOException | ConfigException | InterruptedException | RuntimeException e) {
      closeAll(started);
      throw e;
    }
  }

  /** The demo operator's token file for the admin API ({@code demo TOKEN}). */
  public Path adminTokenFile() {
    return workDir.resolve("admin-tokens");
  }

  private static String randomToken() {
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  /** fhirwall's public FHIR base URL, e.g. {@code http://127.0.0.1:PORT/fhir}. */
  public String proxyBase() {
    return config.publicBaseUrl().toString();
  }

  /** The EPR's own base URL (the demo shows it only to prove clients never need it). */
  public String eprBase() {
    return epr.baseUrl();
  }

  public DemoIssuer issuer() {
    return issuer;
  }

  public DemoStore store() {
    return store;
  }

  public Fhirwall fhirwall() {
    return fhirwall;
  }

  public Path auditFile() {
    return workDir.resolve("audit.jsonl");
  }

  /** The alerts fhirwall posted to the demo's webhook, as received (JSON). */
  public List<String> alerts() {
    return List.copyOf(alerts);
  }

  @Override
  public void close() {
    closeAll(started);
  }

  private static void closeAll(List<AutoCloseable> started) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
    started.clear();
  }

  private static HttpServer alertReceiver(List<String> received) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/alerts", exchange -> {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readNBytes(64 * 1024);
        received.add(new String(body, UTF_8));
        exchange.sendResponseHeaders(204, -1);
      }
    });
    server.start();
    return server;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
