package org.fhirwall.respond;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.fhirwall.auth.SmartConfiguration;

/**
 * The CapabilityStatement fhirwall shows without a token ({@code GET [base]/metadata}): the EPR's,
 * reduced to what describes the API (FHIR version, formats, resource types with their interactions,
 * search parameters and operations), with the {@code rest.security} a SMART app needs to find
 * where to log in (the {@code oauth-uris} extension, service {@code SMART-on-FHIR}). Everything
 * else the EPR wrote (narrative, contained resources, extensions, implementation URLs) is left out,
 * so nothing patient-specific or internal can pass. Pure and thread-safe.
 */
public final class PublicCapabilities {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TOP = List.of("status", "date", "kind", "fhirVersion", "format", "patchFormat");
  private static final List<String> RESOURCE = List.of("type", "interaction", "versioning", "readHistory", "updateCreate",
      "conditionalCreate", "conditionalRead", "conditionalUpdate", "conditionalDelete", "searchInclude", "searchRevInclude");
  static final String OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

  private PublicCapabilities() {}

  /** The public view of the EPR's CapabilityStatement (JSON), or empty when it is not one. */
  public static Optional<byte[]> of(byte[] epr, SmartConfiguration.Endpoints idp, String publicBaseUrl) {
    JsonNode in;
    try {
      in = JSON.readTree(epr);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (in == null || !"CapabilityStatement".equals(in.path("resourceType").asText())) {
      return Optional.empty();
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("resourceType", "CapabilityStatement");
    for (String k : TOP) {
      if (in.has(k)) {
        out.set(k, in.get(k).deepCopy());
      }
    }
    if (!out.has("status")) {
      out.put("status", "active");
    }
    if (!out.has("kind")) {
      out.put("kind", "instance");
    }
    out.putObject("software").put("name", "fhirwall in front of " + in.path("software").path("name").asText("the EPR"));
    out.putObject("implementation").put("description", "fhirwall").put("url", publicBaseUrl);
    ArrayNode rests = out.putArray("rest");
    JsonNode inRests = in.path("rest");
    if (!inRests.isArray() || inRests.isEmpty()) {
      rests.addObject().put("mode", "server");
    }
    for (JsonNode r : inRests) {
      if (!"server".equals(r.path("mode").asText("server"))) {
        continue;
      }
      ObjectNode rest = rests.addObject();
      rest.put("mode", "server");
      ArrayNode resources = rest.putArray("resource");
      for (JsonNode res : r.path("resource")) {
        ObjectNode o = resources.addObject();
        for (String k : RESOURCE) {
          if (res.has(k)) {
            o.set(k, res.get(k).deepCopy());
          }
        }
        ArrayNode params = JSON.createArrayNode();
        for (JsonNode p : res.path("searchParam")) {
          params.addObject().put("name", p.path("name").asText()).put("type", p.path("type").asText());
        }
        if (!params.isEmpty()) {
          o.set("searchParam", params);
        }
        ArrayNode ops = JSON.createArrayNode();
        for (JsonNode p : res.path("operation")) {
          ops.addObject().put("name", p.path("name").asText()).put("definition", p.path("definition").asText());
        }
        if (!ops.isEmpty()) {
          o.set("operation", ops);
        }
      }
      if (r.has("interaction")) {
        rest.set("interaction", r.get("interaction").deepCopy());
      }
    }
    for (JsonNode rest : rests) {
      security((ObjectNode) rest, idp);
    }
    try {
      return Optional.of(JSON.writeValueAsBytes(out));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static void security(ObjectNode rest, SmartConfiguration.Endpoints idp) {
    ObjectNode security = rest.putObject("security");
    security.put("cors", true);
    ObjectNode coding = security.putArray("service").addObject().putArray("coding").addObject();
    coding.put("system", "http://terminology.hl7.org/CodeSystem/restful-security-service");
    coding.put("code", "SMART-on-FHIR");
    security.put("description", "OAuth 2.0 / OpenID Connect (SMART App Launch); see .well-known/smart-configuration");
    ObjectNode ext = security.putArray("extension").addObject();
    ext.put("url", OAUTH_URIS);
    ArrayNode uris = ext.putArray("extension");
    uris.addObject().put("url", "authorize").put("valueUri", idp.authorize());
    uris.addObject().put("url", "token").put("valueUri", idp.token());
    if (idp.revoke() != null) {
      uris.addObject().put("url", "revoke").put("valueUri", idp.revoke());
    }
    if (idp.introspect() != null) {
      uris.addObject().put("url", "introspect").put("valueUri", idp.introspect());
    }
    if (idp.register() != null) {
      uris.addObject().put("url", "register").put("valueUri", idp.register());
    }
  }
}
