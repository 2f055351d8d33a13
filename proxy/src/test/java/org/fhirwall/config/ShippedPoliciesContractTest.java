package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RolePolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Every role policy file fhirwall ships loads, and matches policies/schema.json (what editors complete from). */
class ShippedPoliciesContractTest {
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));

  static Stream<Path> roleDirectories() throws IOException {
    try (Stream<Path> s = Files.walk(POLICIES)) {
      return s.filter(Files::isDirectory)
          .filter(d -> {
            try (Stream<Path> f = Files.list(d)) {
              return f.anyMatch(RolePolicyLoader::isYaml) && !d.equals(POLICIES);
            } catch (IOException e) {
              return false;
            }
          }).toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("roleDirectories")
  void everyShippedPolicyDirectoryLoadsAsOneValidSet(Path dir) throws Exception {
    PolicySet set = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).loadDirectory(dir);
    assertThat(set.roles()).isNotEmpty();
    for (RolePolicy r : set.roles()) {
      assertThat(r.patientLimits()).as(r.name() + " has patient limits").isNotEmpty();
      if (r.principalKind() == org.fhirwall.auth.Principal.Kind.USER) {
        assertThat(r.authentication().requiresNothing()).as(r.name() + " requires MFA evidence").isFalse();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("roleDirectories")
  void everyShippedPolicyFileMatchesTheSchema(Path dir) throws Exception {
    JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(Files.readString(POLICIES.resolve("schema.json")));
    ObjectMapper json = new ObjectMapper();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(RolePolicyLoader::isYaml).sorted().toList();
    }
    for (Path f : files) {
      Object yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(f));
      JsonNode node = json.valueToTree(yaml);
      Set<ValidationMessage> errors = schema.validate(node);
      assertThat(errors).as(f.toString()).isEmpty();
    }
  }
}
