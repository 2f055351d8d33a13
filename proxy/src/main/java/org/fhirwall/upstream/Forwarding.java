package org.fhirwall.upstream;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.fhir.CanonicalForm;
import org.fhirwall.fhir.CanonicalRequest;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.RawRequest;
import org.jspecify.annotations.Nullable;

/**
 * The request fhirwall sends the EPR for a client's request: its own canonical re-serialisation
 * (never the raw request), the client headers that survived parsing, and the forwarding headers
 * fhirwall sets itself ({@code X-Forwarded-For/-Proto/-Host}, {@code Forwarded}, the request id).
 * Client-sent forwarding headers never get here: the parser drops them.
 */
public final class Forwarding {
  private Forwarding() {}

  /**
   * Who the client is, as fhirwall saw it.
   *
   * @param publicScheme {@code https} or {@code http}, as clients reach fhirwall
   * @param publicHost the host[:port] clients use
   */
  public record Client(String remoteAddress, String publicScheme, String publicHost, String requestId) {
    public Client {
      requireNonNull(remoteAddress, "remoteAddress");
      requireNonNull(publicScheme, "publicScheme");
      requireNonNull(publicHost, "publicHost");
      requireNonNull(requestId, "requestId");
    }
  }

  /**
   * The request for the EPR: the canonical form of {@code canonical}, or when following a page,
   * the EPR's own {@code pageTarget} (with the surviving headers of the {@code asked} request).
   */
  public static UpstreamRequest of(@Nullable FhirRequest canonical, @Nullable String pageTarget, FhirRequest asked,
      Client client) {
    if (pageTarget != null) {
      return new UpstreamRequest("GET", pageTarget, headers(asked.forwardHeaders(), client), new byte[0]);
    }
    return of(requireNonNull(canonical, "canonical"), client);
  }

  /**
   * The canonical form of {@code request}: its headers are the canonical ones alone (they carry what
   * survived of the client's, re-written: a client's {@code Prefer} sent besides them would
   * contradict the one fhirwall chose).
   */
  public static UpstreamRequest of(FhirRequest request, Client client) {
    CanonicalRequest c = CanonicalForm.of(request);
    return new UpstreamRequest(c.method(), c.target(), headers(c.headers(), client), c.body().bytes());
  }

  private static List<Map.Entry<String, String>> headers(List<RawRequest.Header> surviving, Client client) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(surviving.size() + 6);
    for (RawRequest.Header h : surviving) {
      headers.add(Map.entry(h.name(), h.value()));
    }
    String remote = client.remoteAddress();
    headers.add(Map.entry("X-Forwarded-For", remote));
    headers.add(Map.entry("X-Forwarded-Proto", client.publicScheme()));
    headers.add(Map.entry("X-Forwarded-Host", client.publicHost()));
    headers.add(Map.entry("Forwarded", "for=\"" + remote + "\";proto=" + client.publicScheme() + ";host=\""
        + client.publicHost() + "\""));
    headers.add(Map.entry("X-Request-Id", client.requestId()));
    return headers;
  }
}
