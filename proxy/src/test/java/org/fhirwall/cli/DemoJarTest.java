package org.fhirwall.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the demo verb finds the demo, and how it loads and runs a demo jar beside a product without the demo. */
class DemoJarTest {
  static final ClassLoader PRODUCT = DemoJarTest.class.getClassLoader();

  @TempDir
  Path dir;

  @Test
  void theDemoIsLookedForBesideTheProductThenInTheCheckoutsDemoModule() {
    assertThat(DemoJar.candidates(Path.of("/src/fhirwall/proxy/target/fhirwall.jar"))).containsExactly(
        Path.of("/src/fhirwall/proxy/target/fhirwall-demo.jar"), Path.of("/src/fhirwall/demo/target/fhirwall-demo.jar"));
    assertThat(DemoJar.candidates(Path.of("/src/fhirwall/proxy/target/classes"))).containsExactly(
        Path.of("/src/fhirwall/proxy/target/fhirwall-demo.jar"), Path.of("/src/fhirwall/demo/target/fhirwall-demo.jar"));
    assertThat(DemoJar.candidates(Path.of("/opt/fhirwall/fhirwall.jar"))).containsExactly(
        Path.of("/opt/fhirwall/fhirwall-demo.jar"));
  }

  @Test
  void aDemoJarBesideTheProductRunsInItsOwnClassLoaderWithTheVerbsOptions() throws Exception {
    DemoJars.fakeDemo(dir.resolve("fhirwall-demo.jar"));
    DemoJar.Lookup lookup = DemoJar.find(null, PRODUCT, dir.resolve("fhirwall.jar"));

    assertThat(lookup).isInstanceOf(DemoJar.Found.class);
    StringWriter out = new StringWriter();
    int exit;
    try (DemoJar.Found found = (DemoJar.Found) lookup) {
      assertThat(found.loader()).isInstanceOf(DemoClassLoader.class);
      assertThat(found.demo().getClass().getClassLoader()).isSameAs(found.loader());
      exit = found.run(new Demo.Options(Path.of("r.json"), false, null, 150, 3), new PrintWriter(out, true),
          new PrintWriter(new StringWriter()));
    }
    assertThat(exit).isEqualTo(DemoJars.FAKE_EXIT);
    assertThat(out.toString())
        .contains("fake demo Options[report=r.json, keepRunning=false, envFile=null, patients=150, seed=3]")
        .contains("loaded by fhirwall-demo, context class loader is it: true");
    assertThat(Thread.currentThread().getContextClassLoader()).as("restored after the run").isNotInstanceOf(DemoClassLoader.class);
  }

  @Test
  void inACheckoutTheDemoModulesJarIsFound() throws Exception {
    Path demoJar = DemoJars.fakeDemo(dir.resolve("demo/target/fhirwall-demo.jar"));

    DemoJar.Lookup lookup = DemoJar.find(null, PRODUCT, dir.resolve("proxy/target/fhirwall.jar"));

    assertThat(lookup).isInstanceOfSatisfying(DemoJar.Found.class, found -> {
      assertThat(found.loader()).isNotNull();
      assertThat(found.loader().getURLs()).extracting(u -> u.getPath()).containsExactly(demoJar.toUri().getPath());
    });
    ((DemoJar.Found) lookup).close();
  }

  @Test
  void theJarNamedByTheUserWinsOverTheOneBesideTheProduct() throws Exception {
    DemoJars.write(dir.resolve("fhirwall-demo.jar"), Map.of("README", "not a demo".getBytes(UTF_8)));
    Path named = DemoJars.fakeDemo(dir.resolve("elsewhere/my-demo.jar"));

    DemoJar.Lookup lookup = DemoJar.find(named, PRODUCT, dir.resolve("fhirwall.jar"));

    assertThat(lookup).isInstanceOfSatisfying(DemoJar.Found.class,
        found -> assertThat(found.demo().getClass().getName()).isEqualTo("fake.FakeDemo"));
    ((DemoJar.Found) lookup).close();
  }

  @Test
  void withNoDemoJarAnywhereTheMessageSaysWhereItLookedAndWhatToBuild() {
    DemoJar.Lookup lookup = DemoJar.find(null, PRODUCT, dir.resolve("proxy/target/fhirwall.jar"));

    assertThat(lookup).isInstanceOfSatisfying(DemoJar.Missing.class, missing -> assertThat(missing.message())
        .contains(dir.resolve("proxy/target/fhirwall-demo.jar").toString())
        .contains(dir.resolve("demo/target/fhirwall-demo.jar").toString())
        .contains("mvn -q -DskipTests package")
        .contains("--demo-jar FILE or FHIRWALL_DEMO_JAR"));
  }

  @Test
  void aNamedJarThatDoesNotExistIsRefusedByName() {
    Path named = dir.resolve("nowhere/fhirwall-demo.jar");

    DemoJar.Lookup lookup = DemoJar.find(named, PRODUCT, dir.resolve("fhirwall.jar"));

    assertThat(lookup).isInstanceOfSatisfying(DemoJar.Missing.class, missing -> assertThat(missing.message())
        .startsWith("--demo-jar: " + named + " (expected: an existing fhirwall-demo.jar;")
        .contains("mvn -q -DskipTests package"));
  }

  @Test
  void aJarWithoutTheDemoServiceIsRefused() throws Exception {
    Path jar = DemoJars.write(dir.resolve("fhirwall-demo.jar"), Map.of("README", "not a demo".getBytes(UTF_8)));

    DemoJar.Lookup lookup = DemoJar.find(null, PRODUCT, dir.resolve("fhirwall.jar"));

    assertThat(lookup).isInstanceOfSatisfying(DemoJar.Missing.class, missing -> assertThat(missing.message())
        .startsWith(jar + ": holds no demo (expected: fhirwall-demo.jar, registering org.fhirwall.cli.Demo;"));
  }
}
