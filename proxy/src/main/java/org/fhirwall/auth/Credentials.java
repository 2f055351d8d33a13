package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a request shows of its sender, read from its head and its connection before anything else:
 * the {@code Authorization} header, the DPoP proofs (RFC 9449) and what they must be about, and the
 * TLS client certificate (RFC 8705).
 *
 * @param authorization the raw {@code Authorization} header, null when absent
 * @param dpopProofs every {@code DPoP} header value (a proof must be the only one)
 * @param method the request's method, as sent ({@code GET})
 * @param url the request's URL as the client addressed it: fhirwall's public origin (from
 *     {@code public-base-url}, never from the request's {@code Host}) and the request's path,
 *     without query or fragment ({@code https://fhir.hospital.example/fhir/Patient/1})
 * @param clientCertificate the SHA-256 thumbprint (base64url) of the client certificate the TLS
 *     connection authenticated, null without one
 */
public record Credentials(@Nullable String authorization, List<String> dpopProofs, String method, String url,
    @Nullable String clientCertificate) {

  public Credentials {
    dpopProofs = List.copyOf(dpopProofs);
    requireNonNull(method, "method");
    requireNonNull(url, "url");
  }

  /** A bearer-only request (no proof, no certificate), for callers that have nothing else. */
  public static Credentials bearer(@Nullable String authorization) {
    return new Credentials(authorization, List.of(), "GET", "http://localhost/", null);
  }
}
