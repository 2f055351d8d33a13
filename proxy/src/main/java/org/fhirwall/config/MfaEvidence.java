package org.fhirwall.config;

import java.util.List;
import java.util.Set;

/**
 * What counts as MFA evidence in a user role's {@code authentication} (and in its
 * {@code operation-authentication} and {@code break-glass.authentication} blocks).
 *
 * <p>RFC 8176 authentication method references that are not a second factor, and so never MFA
 * evidence on their own: {@code pwd} (password), {@code pin} (a PIN), {@code kba} (knowledge-based
 * questions), {@code wia} (Windows integrated authentication: a domain login, itself a password),
 * {@code geo} (geolocation) and {@code rba} (risk-based: a decision, not a factor), {@code user}
 * (a user-presence test). Every other method of RFC 8176 ({@code otp}, {@code hwk}, {@code swk},
 * {@code sms}, {@code tel}, {@code sc}, {@code pop}, {@code fpt}, {@code face}, {@code iris},
 * {@code retina}, {@code vbm}, {@code mca}, {@code mfa}) is possession or inherence, or says
 * "several factors" outright.
 *
 * <p>A requirement carries MFA evidence when its {@code amr} names a second factor, or it has an
 * {@code amr-any-of} list (each of which must be a second factor: a token showing any one of them
 * passes), or an {@code acr} list (none of whose values may be one the deployment lists in
 * {@code identity.non-mfa-acr}: Keycloak writes {@code acr: "1"} in every token without a level of
 * authentication; the shipped realm's LoA 1 is {@code pwd}). {@code pwd} in {@code amr} next to a
 * second factor only asks for more and is allowed.
 */
final class MfaEvidence {
  static final List<String> NOT_A_SECOND_FACTOR = List.of("pwd", "pin", "kba", "wia", "geo", "rba", "user");

  private static final String WHY_AMR = String.join(", ", NOT_A_SECOND_FACTOR) + " are not a second factor";

  private MfaEvidence() {}

  /**
   * Reports every {@code amr-any-of} and {@code acr} value of {@code block} that would be accepted
   * as MFA evidence without being one (for user roles), and tells whether the block carries
   * evidence otherwise.
   */
  static boolean check(ConfigTree block, Set<String> nonMfaAcr, boolean user) {
    if (!user) {
      return true;
    }
    boolean evidence = false;
    List<String> anyOf = block.strings("amr-any-of");
    for (int i = 0; i < anyOf.size(); i++) {
      if (NOT_A_SECOND_FACTOR.contains(anyOf.get(i))) {
        block.problemAt("amr-any-of", i, anyOf.get(i) + " (expected: a second factor such as otp, hwk, swk or mfa; a token "
            + "showing only " + anyOf.get(i) + " would pass; " + WHY_AMR + ")");
      }
    }
    evidence |= !anyOf.isEmpty();
    List<String> acr = block.strings("acr");
    for (int i = 0; i < acr.size(); i++) {
      if (nonMfaAcr.contains(acr.get(i))) {
        block.problemAt("acr", i, acr.get(i) + " (expected: an acr that means MFA; identity.non-mfa-acr lists "
            + String.join(", ", nonMfaAcr.stream().sorted().toList()) + " as not MFA)");
      }
    }
    evidence |= !acr.isEmpty();
    evidence |= block.strings("amr").stream().anyMatch(m -> !NOT_A_SECOND_FACTOR.contains(m));
    return evidence;
  }

  /** Reports a user role's {@code authentication} that carries no MFA evidence. */
  static void reportMissing(ConfigTree authentication) {
    List<String> amr = authentication.strings("amr");
    if (!amr.isEmpty()) {
      authentication.problem("amr", "[" + String.join(", ", amr) + "] (expected: at least one second factor such as otp or hwk; "
          + WHY_AMR + ")");
    } else {
      authentication.problem("", "requires no MFA evidence (expected for a user role: amr with a second factor, "
          + "amr-any-of, or acr)");
    }
  }
}
