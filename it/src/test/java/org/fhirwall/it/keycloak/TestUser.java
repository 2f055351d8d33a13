package org.fhirwall.it.keycloak;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A user the test realm creates: login name, password, realm roles and, when the user has a TOTP
 * authenticator, its Base32 secret (the value an authenticator app would be given).
 */
public record TestUser(
    String username, String password, List<String> realmRoles, @Nullable String totpSecret) {

  public TestUser {
    requireNonNull(username, "username");
    requireNonNull(password, "password");
    realmRoles = List.copyOf(realmRoles);
  }

  /** The current TOTP code; fails for a user without OTP. */
  public String totpNow() {
    if (totpSecret == null) {
      throw new IllegalStateException(username + " has no OTP credential");
    }
    return Totp.now(totpSecret);
  }
}
