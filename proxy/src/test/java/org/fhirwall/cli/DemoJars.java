package org.fhirwall.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Jars for the demo verb's tests, written at test time: a small {@link Demo} compiled from source
 * (so that no class on the test class path is it, and only a jar's class loader can find it), and
 * jars holding copies of classes the product's class loader also has.
 */
final class DemoJars {
  /** The fake demo: prints what it was given and where it was loaded from, and exits with 7. */
  static final String FAKE_DEMO = """
      package fake;

      import java.io.PrintWriter;
      import org.fhirwall.cli.Demo;

      public final class FakeDemo implements Demo {
        @Override
        public int run(Demo.Options options, PrintWriter out, PrintWriter err) {
          ClassLoader own = FakeDemo.class.getClassLoader();
          out.println("fake demo " + options);
          out.println("loaded by " + own.getName() + ", context class loader is it: "
              + (Thread.currentThread().getContextClassLoader() == own));
          return 7;
        }
      }
      """;
  static final int FAKE_EXIT = 7;

  private DemoJars() {}

  /** A jar with {@link #FAKE_DEMO}, registered as the {@link Demo} service, at {@code jar}. */
  static Path fakeDemo(Path jar) throws Exception {
    Path src = Files.createDirectories(jar.resolveSibling(jar.getFileName() + ".src").resolve("fake"));
    Path classes = Files.createDirectories(jar.resolveSibling(jar.getFileName() + ".classes"));
    Path source = Files.writeString(src.resolve("FakeDemo.java"), FAKE_DEMO, UTF_8);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    boolean compiled = javac.getTask(diagnostics, null, null,
        List.of("-classpath", codeOf(Demo.class) + java.io.File.pathSeparator + codeOf(org.jspecify.annotations.Nullable.class),
            "-d", classes.toString(), "-proc:none"),
        null, javac.getStandardFileManager(null, null, UTF_8).getJavaFileObjects(source)).call();
    assertThat(compiled).as(diagnostics.toString()).isTrue();
    return write(jar, Map.of(
        "fake/FakeDemo.class", Files.readAllBytes(classes.resolve("fake/FakeDemo.class")),
        "META-INF/services/org.fhirwall.cli.Demo", "fake.FakeDemo\n".getBytes(UTF_8)));
  }

  /** A jar holding these entries (name to content). */
  static Path write(Path jar, Map<String, byte[]> entries) throws IOException {
    Files.createDirectories(jar.toAbsolutePath().getParent());
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (String name : new ArrayList<>(new java.util.TreeSet<>(entries.keySet()))) {
        out.putNextEntry(new JarEntry(name));
        out.write(entries.get(name));
        out.closeEntry();
      }
    }
    return jar;
  }

  /** The bytes of a class as the product's class loader has it. */
  static byte[] classFile(Class<?> type) throws IOException {
    try (InputStream in = type.getClassLoader().getResourceAsStream(type.getName().replace('.', '/') + ".class")) {
      assertThat(in).as(type.getName()).isNotNull();
      return in.readAllBytes();
    }
  }

  private static String codeOf(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
