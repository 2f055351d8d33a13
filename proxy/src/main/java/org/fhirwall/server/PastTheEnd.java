package org.fhirwall.server;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.upstream.UpstreamResult;

/**
 * The page behind fhirwall's own next link past the last page of a full search page (see
 * {@code respond.FullPages}): an empty searchset, as the EPR would answer it — no entries, no total,
 * no next link, a self link — built without asking the EPR, then inspected, charged (nobody) and
 * released like any answer.
 */
final class PastTheEnd {
  static final String NOTE = "page past the last one: fhirwall's own empty page, the EPR was not asked";

  private PastTheEnd() {}

  /** The empty page for the PAGE request {@code request}, its self link at the EPR's base (rewritten on release). */
  static UpstreamResult.Response page(String upstreamBase, FhirRequest request) {
    String token = request.pageToken() == null ? "" : request.pageToken();
    String body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"self\",\"url\":\""
        + upstreamBase + "?_fwpage=" + token + "\"}]}";
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set("Content-Type", "application/fhir+json;charset=UTF-8");
    return new UpstreamResult.Response(200, headers, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
  }
}
