package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fhirwall demo} as a user runs it: {@code java -jar proxy/target/fhirwall.jar demo}, a
 * product jar that does not contain the demo and loads {@code fhirwall-demo.jar} (built by the demo
 * module) in a class loader of its own, from the checkout, from beside the jar, or not at all. The
 * other tests run the demo's classes on one flat class path; only these run the two jars the build
 * ships.
 */
class DemoJarIT {
  /** The jars the build wrote (system properties set by the build; defaults for an IDE run from it/). */
  static final Path PRODUCT_JAR = Path.of(System.getProperty("fhirwall.jar", "../proxy/target/fhirwall.jar")).toAbsolutePath().normalize();
  static final Path DEMO_JAR = Path.of(System.getProperty("fhirwall.demo.jar", "../demo/target/fhirwall-demo.jar")).toAbsolutePath().normalize();
  /** The checkout the README's commands run in. */
  static final Path CHECKOUT = PRODUCT_JAR.getParent().getParent().getParent();
  static final long PROCESS_LIMIT_MINUTES = 5;

  @TempDir
  Path dir;

  @BeforeAll
  static void theJarsAreBuilt() {
    assertThat(PRODUCT_JAR).as("the product jar (mvn -DskipTests package)").isRegularFile();
    assertThat(DEMO_JAR).as("the demo jar (mvn -DskipTests package)").isRegularFile();
  }

  @Test
  void theReadmeCommandReplaysTheIncidentWithTheReadmesFigures() throws Exception {
    Path report = dir.resolve("report.json");

    Run run = java(CHECKOUT, "-jar", "proxy/target/fhirwall.jar", "demo", "--report", report.toString());

    assertThat(run.exit()).as(run.describe()).isZero();
    assertThat(run.out()).as(run.describe()).contains(
        "fhirwall demo: starting an EPR with 10,000 synthetic patients, a demo token issuer and fhirwall (loopback only)...",
        "scene                                         allowed  refused  patients",
        "1. clinician's working day (password + OTP)        81        0        20",
        "2. stolen password, no second factor                0        3         0",
        "3. stolen MFA session paging all patients           2        4        10",
        "  1: every request answered; the clinician notices nothing (20 of her 20 patients are in her care: explained, "
            + "not charged to the unexplained budget).",
        "  3: cut off with HTTP 429 after 10 strangers' records (the role's unexplained limit is 10), long before its "
            + "60-patient limit; account locked; 1 alert(s) sent.",
        "  The EPR held 10,000 patients; without fhirwall scene 3 could have taken all of them.");
    JsonNode r = new ObjectMapper().readTree(Files.readString(report));
    assertThat(r.path("patients_in_epr").asInt()).isEqualTo(10_000);
    assertThat(r.path("clinician_workday").path("requests_ok").asInt()).isEqualTo(81);
    assertThat(r.path("password_only").path("first_status").asInt()).isEqualTo(401);
    assertThat(r.path("password_only").path("patients_disclosed").asInt()).isZero();
    assertThat(r.path("stolen_mfa_session").path("role_limit").asInt()).isEqualTo(60);
    assertThat(r.path("stolen_mfa_session").path("patients_disclosed").asInt()).isEqualTo(10);
    assertThat(r.path("clinician_workday").path("patients_in_care").asInt()).isEqualTo(20);
    assertThat(r.path("stolen_mfa_session").path("unexplained_limit").asInt()).isEqualTo(10);
    assertThat(r.path("stolen_mfa_session").path("strangers_disclosed").asInt()).isEqualTo(10);
    assertThat(r.path("stolen_mfa_session").path("cut_off_by_unexplained_limit").asBoolean()).isTrue();
    assertThat(r.path("stolen_mfa_session").path("locked").asBoolean()).isTrue();
  }

  /**
   * What bench/run.sh does: both jars side by side, {@code --keep-running --env-file}; then the EPR
   * answers what needs HAPI's server glue (history Bundles, the CapabilityStatement, a transaction)
   * and fhirwall answers the env file's token.
   */
  @Test
  void besideTheProductJarTheDemoKeepsRunningForScripts() throws Exception {
    Path dist = Files.createDirectories(dir.resolve("dist"));
    Files.copy(PRODUCT_JAR, dist.resolve("fhirwall.jar"));
    Files.copy(DEMO_JAR, dist.resolve("fhirwall-demo.jar"));
    Path envFile = dir.resolve("env");
    Path out = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(javaCommand("-jar", dist.resolve("fhirwall.jar").toString(), "demo",
        "--patients", "500", "--keep-running", "--env-file", envFile.toString()))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      Map<String, String> env = awaitEnvFile(demo, envFile, out);
      HttpClient http = HttpClient.newHttpClient();

      HttpResponse<String> search = http.send(HttpRequest.newBuilder(URI.create(env.get("PROXY_BASE") + "/Patient?_count=5"))
          .header("Authorization", "Bearer " + env.get("TOKEN")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
      assertThat(search.body()).contains("\"resourceType\":\"Bundle\"").contains("\"resourceType\":\"Patient\"");

      String epr = env.get("EPR_BASE");
      HttpResponse<String> history = http.send(HttpRequest.newBuilder(URI.create(epr + "/Patient/p1/_history")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
      assertThat(history.body()).contains("\"type\":\"history\"").contains("\"etag\":\"W/\\\"1\\\"\"");
      HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(URI.create(epr + "/metadata")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(metadata.statusCode()).isEqualTo(200);
      assertThat(metadata.body()).contains("\"resourceType\":\"CapabilityStatement\"");
      HttpResponse<String> transaction = http.send(HttpRequest.newBuilder(URI.create(epr))
          .header("Content-Type", "application/fhir+json")
          .POST(HttpRequest.BodyPublishers.ofString("""
              {"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient",
               "name":[{"family":"Durand"}]},"request":{"method":"POST","url":"Patient"}}]}""")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(200);
      assertThat(transaction.body()).contains("\"type\":\"transaction-response\"").contains("201 Created");
    } finally {
      demo.destroy();
      if (!demo.waitFor(PROCESS_LIMIT_MINUTES, TimeUnit.MINUTES)) {
        demo.destroyForcibly();
      }
    }
  }

  @Test
  void withoutTheDemoJarTheVerbSaysWhatToBuildAndFails() throws Exception {
    Path dist = Files.createDirectories(dir.resolve("dist"));
    Files.copy(PRODUCT_JAR, dist.resolve("fhirwall.jar"));

    Run run = java(dir, "-jar", dist.resolve("fhirwall.jar").toString(), "demo");

    assertThat(run.exit()).as(run.describe()).isEqualTo(1);
    assertThat(run.out()).contains(dist.resolve("fhirwall-demo.jar").toString())
        .contains("mvn -q -DskipTests package").contains("--demo-jar FILE or FHIRWALL_DEMO_JAR")
        .doesNotContain("starting an EPR");
  }

  /** One finished java process: its exit code and its output (stdout and stderr). */
  record Run(int exit, String out) {
    String describe() {
      return "exit " + exit + ", output:\n" + out;
    }
  }

  private Run java(Path workDir, String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "java", ".out");
    Process p = new ProcessBuilder(javaCommand(args)).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    if (!p.waitFor(PROCESS_LIMIT_MINUTES, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("still running after " + PROCESS_LIMIT_MINUTES + " minutes: " + String.join(" ", args)
          + "\n" + Files.readString(out, UTF_8));
    }
    return new Run(p.exitValue(), Files.readString(out, UTF_8));
  }

  private static List<String> javaCommand(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(args));
    return command;
  }

  /** The env file once the demo has written all of it (ISSUER is its last line). */
  private static Map<String, String> awaitEnvFile(Process demo, Path envFile, Path out) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(PROCESS_LIMIT_MINUTES);
    while (System.nanoTime() < deadline) {
      if (!demo.isAlive()) {
        throw new AssertionError("the demo exited with " + demo.exitValue() + ":\n" + Files.readString(out, UTF_8));
      }
      String written = Files.exists(envFile) ? Files.readString(envFile, UTF_8) : "";
      if (written.contains("\nISSUER=") && written.endsWith("\n")) {
        Map<String, String> env = new HashMap<>();
        for (String line : written.split("\n")) {
          int eq = line.indexOf('=');
          env.put(line.substring(0, eq), line.substring(eq + 1));
        }
        assertThat(env).containsKeys("PROXY_BASE", "EPR_BASE", "TOKEN", "AUDIT_FILE", "ISSUER");
        return env;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no env file after " + PROCESS_LIMIT_MINUTES + " minutes:\n" + Files.readString(out, UTF_8));
  }
}
