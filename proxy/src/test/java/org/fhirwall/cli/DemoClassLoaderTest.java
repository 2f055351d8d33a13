package org.fhirwall.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.FhirVersionEnum;
import com.fasterxml.jackson.core.JsonFactory;
import java.net.URL;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo jar's class loader: HAPI FHIR from the jar first (the demo's own HAPI), everything else
 * (the product, its other libraries) from the product's class loader first.
 */
class DemoClassLoaderTest {
  static final ClassLoader PRODUCT = DemoClassLoaderTest.class.getClassLoader();
  static final String HAPI_RESOURCE = "ca/uhn/fhir/i18n/hapi-messages.properties";

  @TempDir
  Path dir;

  @Test
  void hapiClassesAndResourcesComeFromTheJarFirstEverythingElseFromTheProduct() throws Exception {
    Path jar = DemoJars.write(dir.resolve("fhirwall-demo.jar"), Map.of(
        "ca/uhn/fhir/context/FhirVersionEnum.class", DemoJars.classFile(FhirVersionEnum.class),
        "com/fasterxml/jackson/core/JsonFactory.class", DemoJars.classFile(JsonFactory.class),
        "org/fhirwall/cli/Demo.class", DemoJars.classFile(Demo.class),
        HAPI_RESOURCE, "demo's own\n".getBytes(UTF_8)));

    try (DemoClassLoader loader = new DemoClassLoader(jar, PRODUCT)) {
      assertThat(loader.loadClass(FhirVersionEnum.class.getName()).getClassLoader()).isSameAs(loader);
      assertThat(loader.loadClass(JsonFactory.class.getName())).isSameAs(JsonFactory.class);
      assertThat(loader.loadClass(Demo.class.getName())).isSameAs(Demo.class);
      assertThat(loader.loadClass(FhirContext.class.getName())).as("a HAPI class the jar lacks").isSameAs(FhirContext.class);

      URL own = loader.getResource(HAPI_RESOURCE);
      assertThat(own).isNotNull();
      assertThat(own.toString()).startsWith("jar:" + jar.toUri().toURL() + "!/");
      List<URL> all = Collections.list(loader.getResources(HAPI_RESOURCE));
      assertThat(all).hasSize(2).first().isEqualTo(own);
      assertThat(all.get(1)).isEqualTo(PRODUCT.getResource(HAPI_RESOURCE));
      assertThat(loader.getResource("org/fhirwall/cli/Demo.class")).isEqualTo(PRODUCT.getResource("org/fhirwall/cli/Demo.class"));
    }
  }
}
