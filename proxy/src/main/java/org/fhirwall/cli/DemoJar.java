package org.fhirwall.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Where the {@code demo} verb gets the {@link Demo} from, since the product jar does not contain
 * it. In order: the jar named by {@code --demo-jar} (or {@code FHIRWALL_DEMO_JAR}); a demo already
 * on the class path (tests, an IDE); {@code fhirwall-demo.jar} beside the product's jar; and, when
 * the product's jar sits in a build's {@code target/} ({@code proxy/target/fhirwall.jar}),
 * {@code demo/target/fhirwall-demo.jar} of the same checkout.
 *
 * <p>A jar is opened with a {@link DemoClassLoader}, a child of the product's class loader: the
 * product's classes and libraries come from the parent, so the jar holds only the demo's classes,
 * what the product does not ship (Jetty, {@code hapi-fhir-server}) and a HAPI FHIR of its own (see
 * {@link DemoClassLoader} for why).
 */
final class DemoJar {
  static final String FILE_NAME = "fhirwall-demo.jar";
  static final String BUILD_HINT = "build it with `mvn -q -DskipTests package` in the source checkout (it writes demo/target/"
      + FILE_NAME + ")";

  private DemoJar() {}

  /** What looking for the demo gave. */
  sealed interface Lookup permits Found, Missing {}

  /**
   * A demo ready to run. Closing it closes the class loader it came from, if it came from a jar;
   * anything the demo started must be stopped by then (its {@code run} does so before it returns).
   */
  record Found(Demo demo, @Nullable URLClassLoader loader) implements Lookup, AutoCloseable {

    /** Runs the demo with its own class loader as the context class loader (Jetty and HAPI look services up there). */
    int run(Demo.Options options, PrintWriter out, PrintWriter err) throws Exception {
      Thread thread = Thread.currentThread();
      ClassLoader previous = thread.getContextClassLoader();
      thread.setContextClassLoader(demo.getClass().getClassLoader());
      try {
        return demo.run(options, out, err);
      } finally {
        thread.setContextClassLoader(previous);
      }
    }

    @Override
    public void close() throws IOException {
      if (loader != null) {
        loader.close();
      }
    }
  }

  /** No demo to run, and what to tell the user. */
  record Missing(String message) implements Lookup {}

  /**
   * Finds the demo.
   *
   * @param explicit the jar the user named, or null
   * @param product the product's class loader (the parent of a jar's loader)
   * @param productCode where the product's classes were loaded from (its jar, or a classes
   *     directory), or null when unknown
   */
  static Lookup find(@Nullable Path explicit, ClassLoader product, @Nullable Path productCode) {
    if (explicit != null) {
      if (!Files.isRegularFile(explicit)) {
        return new Missing("--demo-jar: " + explicit + " (expected: an existing " + FILE_NAME + "; " + BUILD_HINT + ")");
      }
      return open(explicit, product);
    }
    Optional<Demo> onClassPath = ServiceLoader.load(Demo.class, product).findFirst();
    if (onClassPath.isPresent()) {
      return new Found(onClassPath.get(), null);
    }
    List<Path> candidates = productCode == null ? List.of() : candidates(productCode);
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate)) {
        return open(candidate, product);
      }
    }
    return new Missing("fhirwall demo: the demo is not part of fhirwall.jar, and " + FILE_NAME + " was not found"
        + (candidates.isEmpty() ? "" : " (looked for " + candidates.stream().map(Path::toString).collect(Collectors.joining(", ")) + ")")
        + ".\nBuild it with `mvn -q -DskipTests package` in the source checkout (it writes demo/target/" + FILE_NAME
        + ", where proxy/target/fhirwall.jar finds it), put " + FILE_NAME + " next to fhirwall.jar, or name it with --demo-jar FILE"
        + " or FHIRWALL_DEMO_JAR.");
  }

  /**
   * Where {@code fhirwall-demo.jar} may be, given where the product's classes come from: beside
   * them, and in {@code demo/target/} when they are in a module's {@code target/}.
   */
  static List<Path> candidates(Path productCode) {
    Path dir = productCode.toAbsolutePath().normalize().getParent();
    if (dir == null) {
      return List.of();
    }
    List<Path> candidates = new ArrayList<>();
    candidates.add(dir.resolve(FILE_NAME));
    Path module = dir.getParent();
    Path name = dir.getFileName();
    if (name != null && name.toString().equals("target") && module != null && module.getParent() != null) {
      candidates.add(module.getParent().resolve("demo").resolve("target").resolve(FILE_NAME));
    }
    return List.copyOf(candidates);
  }

  /** Where the product's classes were loaded from (fhirwall.jar, or a classes directory), or null. */
  static @Nullable Path productCode() {
    CodeSource source = DemoJar.class.getProtectionDomain().getCodeSource();
    if (source == null || source.getLocation() == null) {
      return null;
    }
    try {
      return Path.of(source.getLocation().toURI());
    } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
      return null;
    }
  }

  private static Lookup open(Path jar, ClassLoader parent) {
    URLClassLoader loader;
    try {
      loader = new DemoClassLoader(jar, parent);
    } catch (IOException e) {
      return new Missing(jar + ": " + e.getMessage() + " (expected: a path to " + FILE_NAME + ")");
    }
    try {
      // Only a demo the jar itself defines: the loader also sees the class path's service files.
      Optional<Demo> demo = ServiceLoader.load(Demo.class, loader).stream()
          .filter(provider -> provider.type().getClassLoader() == loader)
          .findFirst()
          .map(ServiceLoader.Provider::get);
      if (demo.isPresent()) {
        return new Found(demo.get(), loader);
      }
      closeQuietly(loader);
      return new Missing(jar + ": holds no demo (expected: " + FILE_NAME + ", registering " + Demo.class.getName()
          + "; " + BUILD_HINT + ")");
    } catch (ServiceConfigurationError e) {
      closeQuietly(loader);
      return new Missing(jar + ": the demo could not be loaded: " + e.getMessage()
          + " (expected: " + FILE_NAME + " built together with this fhirwall.jar; " + BUILD_HINT + ")");
    }
  }

  private static void closeQuietly(URLClassLoader loader) {
    try {
      loader.close();
    } catch (IOException e) {
      // nothing was loaded from it
    }
  }
}
