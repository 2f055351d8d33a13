package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {

  @Test
  void aValidChangeReplacesThePoliciesAndAnInvalidOneNeverDoes(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN);
    RolePolicyLoader loader = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes());
    try (PolicyReloader reloader = new PolicyReloader(dir, loader, false, 0, ReloadListener.NONE)) {
      assertThat(reloader.get().policies().roles().get(0).search().maxCount()).isEqualTo(50);
      assertThat(reloader.check()).isFalse();

      Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN.replace("max-count: 50", "max-count: 20"));
      assertThat(reloader.check()).isTrue();
      assertThat(reloader.get().policies().roles().get(0).search().maxCount()).isEqualTo(20);

      Files.writeString(dir.resolve("physician.yaml"), RolePolicyLoaderTest.PHYSICIAN.replace("max-count: 50", "max-count: -1"));
      assertThat(reloader.check()).isFalse();
      assertThat(reloader.get().policies().roles().get(0).search().maxCount()).isEqualTo(20);
    }
  }
}
