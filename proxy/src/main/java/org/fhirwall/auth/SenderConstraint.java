package org.fhirwall.auth;

import java.util.Optional;
import org.fhirwall.fhir.Refusal;

/**
 * Whether a role needs sender-constrained tokens ({@code authentication.sender-constrained}): a
 * token bound to a key its holder must prove with each request, so that a copied token alone opens
 * nothing. {@link #DPOP} a DPoP key ({@code cnf.jkt}, RFC 9449), {@link #MTLS} a client certificate
 * ({@code cnf.x5t#S256}, RFC 8705), {@link #ANY} either; {@link #BOTH} is what {@code dpop} and
 * {@code mtls} combine to. The binding itself is proven in {@link JwtAuthenticator}; this only asks
 * whether there is one.
 */
public enum SenderConstraint {
  NONE,
  ANY,
  DPOP,
  MTLS,
  BOTH;

  /** The policy file's value: {@code dpop}, {@code mtls} or {@code any}. */
  public static SenderConstraint parse(String code) {
    return switch (code) {
      case "dpop" -> DPOP;
      case "mtls" -> MTLS;
      case "any" -> ANY;
      default -> throw new IllegalArgumentException("sender-constrained: " + code + " (expected: dpop, mtls or any)");
    };
  }

  /** Both requirements at once: never weaker than either. */
  public SenderConstraint and(SenderConstraint other) {
    if (this == other || other == NONE) {
      return this;
    }
    if (this == NONE) {
      return other;
    }
    if (this == ANY) {
      return other;
    }
    if (other == ANY) {
      return this;
    }
    return BOTH;
  }

  /** Whether {@code this} asks at least what {@code other} asks. */
  public boolean atLeast(SenderConstraint other) {
    return this.and(other) == this;
  }

  public boolean satisfiedBy(Principal.Confirmation c) {
    return switch (this) {
      case NONE -> true;
      case ANY -> c.dpop() || c.mtls();
      case DPOP -> c.dpop();
      case MTLS -> c.mtls();
      case BOTH -> c.dpop() && c.mtls();
    };
  }

  /** The policy file's word for it. */
  public String code() {
    return switch (this) {
      case NONE -> "none";
      case ANY -> "any";
      case DPOP -> "dpop";
      case MTLS -> "mtls";
      case BOTH -> "dpop and mtls";
    };
  }

  /**
   * Why {@code p} cannot be served under this requirement, as the refusal to send: 401 with a DPoP
   * challenge (the client should obtain a DPoP-bound token), or with a Bearer {@code invalid_token}
   * challenge when only a certificate-bound token will do; empty when it can.
   */
  public Optional<Refusal> check(Principal p, String description) {
    if (satisfiedBy(p.confirmation())) {
      return Optional.empty();
    }
    String d = description + " (the token is " + (p.confirmation().dpop() ? "DPoP-bound"
        : p.confirmation().mtls() ? "certificate-bound" : "a bearer token") + ", " + code() + "-bound required)";
    if (this == MTLS) {
      return Optional.of(Challenges.invalidToken(d));
    }
    return Optional.of(Challenges.invalidDpopToken(d, AuthSettings.DEFAULT_ALGORITHMS));
  }
}
