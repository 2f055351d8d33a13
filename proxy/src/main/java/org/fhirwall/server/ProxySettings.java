package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * What the exchange needs to know about where it stands.
 *
 * @param publicBaseUrl the base URL clients use, no trailing slash ({@code https://fhir.hospital/fhir})
 * @param upstreamBaseUrl the EPR's base URL as it writes it in links, no trailing slash
 * @param breakGlassHeader the request header carrying a break-glass reason
 * @param writeTimeout how long a response may take to be written to a slow reader
 * @param inlineInspectBytes bodies up to this size are inspected on the event loop; larger ones
 *     on the heavy-work executor
 */
public record ProxySettings(
    String publicBaseUrl,
    String upstreamBaseUrl,
    String breakGlassHeader,
    Duration writeTimeout,
    int inlineInspectBytes) {

  public ProxySettings {
    requireNonNull(publicBaseUrl, "publicBaseUrl");
    requireNonNull(upstreamBaseUrl, "upstreamBaseUrl");
    if (publicBaseUrl.endsWith("/") || upstreamBaseUrl.endsWith("/")) {
      throw new IllegalArgumentException("base URLs: " + publicBaseUrl + ", " + upstreamBaseUrl + " (expected: no trailing /)");
    }
    requireNonNull(breakGlassHeader, "breakGlassHeader");
    requireNonNull(writeTimeout, "writeTimeout");
  }

  /** {@code https} or {@code http}, as clients reach fhirwall. */
  public String publicScheme() {
    return publicBaseUrl.startsWith("https:") ? "https" : "http";
  }

  /** The path of the public base URL ({@code /fhir}), empty for the root. */
  public String publicPath() {
    String rest = publicBaseUrl.substring(publicBaseUrl.indexOf("://") + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? "" : rest.substring(slash);
  }

  /** The host[:port] clients use. */
  public String publicHost() {
    String rest = publicBaseUrl.substring(publicBaseUrl.indexOf("://") + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
