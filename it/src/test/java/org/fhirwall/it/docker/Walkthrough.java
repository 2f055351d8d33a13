package org.fhirwall.it.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.it.keycloak.KeycloakServer;
import org.fhirwall.it.keycloak.TestRealm;
import org.fhirwall.it.keycloak.TestUser;
import org.fhirwall.it.keycloak.Totp;

/**
 * The walkthrough's client tools as the walkthrough runs them: docker/walkthrough/login.sh (a
 * browser login whose token Keycloak binds to a DPoP key) and docker/walkthrough/dpop.py (the key's
 * thumbprint and the proof for each request).
 */
final class Walkthrough {
  private Walkthrough() {}

  /** login.sh for {@code user} with the current OTP code, the DPoP key at {@code dpopKey}. */
  static Command.Result login(KeycloakServer keycloak, TestUser user, String otp, Path dpopKey) {
    return Command.of(Kit.REPO, List.of("bash", Kit.DOCKER.resolve("walkthrough/login.sh").toString(), user.username(), user.password(), otp))
        .with(Map.of("KEYCLOAK_URL", keycloak.baseUri().toString(), "DPOP_KEY", dpopKey.toString())).run(60);
  }

  /**
   * The walkthrough user's access token from login.sh, bound to {@code dpopKey}. An OTP code is good
   * once (the realm's policy) and other tests of the run log this user in too: when Keycloak refuses
   * the current code, the next one is used once its 30-second step has begun, as a person would.
   */
  static String token(KeycloakServer keycloak, Path dpopKey) throws InterruptedException {
    TestUser user = TestRealm.walkthroughUser();
    long step = Instant.now().getEpochSecond() / 30;
    Command.Result login = login(keycloak, user, Totp.now(user.totpSecret()), dpopKey);
    if (login.exit() != 0 && login.err().contains("OTP code refused")) {
      while (Instant.now().getEpochSecond() / 30 == step) {
        Thread.sleep(200);
      }
      login = login(keycloak, user, Totp.now(user.totpSecret()), dpopKey);
    }
    assertThat(login.exit()).as(login.describe()).isZero();
    return login.out().strip();
  }

  /** {@code dpop.py proof}: a fresh proof of {@code dpopKey} for one request with {@code accessToken}. */
  static String proof(Path dpopKey, String method, String url, String accessToken) {
    Command.Result r = dpopPy(dpopKey.getParent(), "proof", dpopKey.toString(), method, url, accessToken);
    assertThat(r.exit()).as(r.describe()).isZero();
    return r.out().strip();
  }

  /** {@code dpop.py thumbprint}: what the token's cnf.jkt must say. */
  static String thumbprint(Path dpopKey) {
    Command.Result r = dpopPy(dpopKey.getParent(), "thumbprint", dpopKey.toString());
    assertThat(r.exit()).as(r.describe()).isZero();
    return r.out().strip();
  }

  private static Command.Result dpopPy(Path workingDir, String... args) {
    List<String> argv = new ArrayList<>(List.of("python3", Kit.DOCKER.resolve("walkthrough/dpop.py").toString()));
    argv.addAll(List.of(args));
    return Command.of(workingDir, argv).run(30);
  }
}
