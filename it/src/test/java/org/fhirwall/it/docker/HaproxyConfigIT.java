package org.fhirwall.it.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The load balancer's configurations, parsed by the real haproxy ({@code haproxy -c}). The only
 * warnings allowed are the replicas' names, which resolve on the compose network only (the
 * configuration starts them unresolved and finds them through Docker's DNS). Skipped where haproxy
 * is neither installed nor installable; DockerFilesTest reads the same files line by line anyway.
 */
class HaproxyConfigIT {

  @ParameterizedTest
  @ValueSource(strings = {"haproxy.cfg", "haproxy-tls.cfg"})
  void haproxyAcceptsTheShippedConfiguration(String file) {
    var haproxy = Haproxy.binary();
    assumeTrue(haproxy.isPresent(), "no haproxy binary and none installable here");
    Path cfg = Kit.DOCKER.resolve("haproxy").resolve(file);

    Command.Result r = Command.of(Kit.DOCKER, List.of(haproxy.get().toString(), "-c", "-f", cfg.toString())).run(60);

    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out() + r.err()).as(r.describe()).contains("Configuration file is valid");
    List<String> warnings = (r.out() + r.err()).lines().filter(l -> l.contains("[WARNING]") || l.contains("[ALERT]")).toList();
    assertThat(warnings).as(r.describe())
        .allMatch(w -> w.contains("[WARNING]") && w.matches(".*could not resolve address 'fhirwall-[12]'.*"));
  }
}
