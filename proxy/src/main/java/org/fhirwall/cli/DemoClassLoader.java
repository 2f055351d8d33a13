package org.fhirwall.cli;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The class loader of {@code fhirwall-demo.jar}, a child of the product's: parent-first, so the
 * demo sees the product's classes and libraries, except for HAPI FHIR ({@code ca.uhn.fhir.*},
 * {@code org.hl7.fhir.*}), which it loads from the jar first.
 *
 * <p>Why HAPI is the exception: {@code hapi-fhir-structures-r4}, which the product ships, holds
 * HAPI's server glue ({@code FhirServerR4}, {@code R4BundleFactory}) with hard references into
 * {@code hapi-fhir-server}, which the product does not ship; and HAPI finds that glue with
 * {@code Class.forName} from its own loader. A HAPI server cannot run on the product's HAPI from a
 * child loader, so the demo jar carries a whole HAPI (base, R4 model, server) and this loader
 * keeps it apart from the product's: the demo's {@code FhirContext}, model classes and server are
 * the jar's. Nothing HAPI-typed passes between the demo and the product (the demo drives fhirwall
 * through its deployment file and HTTP), so the two never meet.
 *
 * <p>Thread-safe (parallel capable).
 */
final class DemoClassLoader extends URLClassLoader {
  private static final List<String> OWN_PACKAGES = List.of("ca.uhn.fhir.", "org.hl7.fhir.");
  private static final List<String> OWN_RESOURCES = List.of("ca/uhn/fhir/", "org/hl7/fhir/");

  static {
    ClassLoader.registerAsParallelCapable();
  }

  DemoClassLoader(Path jar, ClassLoader parent) throws IOException {
    super("fhirwall-demo", new URL[] {jar.toUri().toURL()}, requireNonNull(parent, "parent"));
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (!isOwn(name, OWN_PACKAGES)) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> loaded = findLoadedClass(name);
      if (loaded == null) {
        try {
          loaded = findClass(name);
        } catch (ClassNotFoundException notInTheJar) {
          loaded = getParent().loadClass(name);
        }
      }
      if (resolve) {
        resolveClass(loaded);
      }
      return loaded;
    }
  }

  @Override
  public @Nullable URL getResource(String name) {
    if (isOwn(name, OWN_RESOURCES)) {
      URL own = findResource(name);
      if (own != null) {
        return own;
      }
    }
    return super.getResource(name);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    if (!isOwn(name, OWN_RESOURCES)) {
      return super.getResources(name);
    }
    List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
    all.addAll(Collections.list(getParent().getResources(name)));
    return Collections.enumeration(all);
  }

  private static boolean isOwn(String name, List<String> prefixes) {
    for (String prefix : prefixes) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
