package org.fhirwall.it.docker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real haproxy, to check docker/haproxy/*.cfg with: from the PATH or /usr/sbin, or installed from
 * Debian's packages when the tests run as root on Debian (as the benchmark installs nginx). The
 * packaged service is not started (this machine's policy-rc.d refuses it, as in containers).
 */
final class Haproxy {
  private static final Logger LOG = LoggerFactory.getLogger(Haproxy.class);
  private static @Nullable Optional<Path> binary;

  private Haproxy() {}

  static synchronized Optional<Path> binary() {
    if (binary == null) {
      binary = find();
      if (binary.isEmpty() && canInstall()) {
        LOG.info("haproxy not found; installing it from Debian's packages");
        // RUNLEVEL=1: should no policy-rc.d be there, the packaged service is still not started
        Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive", "RUNLEVEL", "1");
        List<String> install = List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "haproxy");
        Command.Result r = Command.of(Path.of("/"), install).with(env).run(600);
        if (r.exit() != 0) {
          Command.of(Path.of("/"), List.of("apt-get", "update", "-q")).with(env).run(600);
          r = Command.of(Path.of("/"), install).with(env).run(600);
        }
        if (r.exit() != 0) {
          LOG.warn("installing haproxy failed: {}", r.describe());
        }
        binary = find();
      }
    }
    return binary;
  }

  private static Optional<Path> find() {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/local/sbin").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "haproxy");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static boolean canInstall() {
    return Files.isExecutable(Path.of("/usr/bin/apt-get")) && "root".equals(System.getProperty("user.name"));
  }
}
