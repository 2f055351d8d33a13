package org.fhirwall.it;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.util.FhirTerser;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * The test suite's own count of the patients an answer disclosed, independent of fhirwall: the body the client
 * received is parsed with HAPI FHIR's R4 parser (JSON, XML or NDJSON) and each resource in it (Bundle entries and
 * nested Bundles, {@code Parameters} parts, {@code contained} resources) contributes the patients HAPI's
 * {@link FhirTerser#getCompartmentOwnersForResource} names as its Patient-compartment owners, and a {@code Patient}
 * its own id. Patients are returned as {@code Patient/ID} (no base, no version). It never uses fhirwall's inspector
 * nor the demo's counter. Thread-safe.
 */
final class DisclosedPatients {
  private static final FhirContext FHIR = ItEnvironment.FHIR;

  private DisclosedPatients() {}

  /** The patients in what the client received (an empty body or an OperationOutcome discloses none). */
  static Set<String> in(HttpResponse<String> response) {
    String type = response.headers().firstValue("Content-Type").orElse("");
    return in(response.body(), type);
  }

  static Set<String> in(String body, String contentType) {
    Set<String> found = new TreeSet<>();
    if (body.isBlank()) {
      return found;
    }
    if (contentType.contains("ndjson")) {
      for (String line : body.split("\n")) {
        if (!line.isBlank()) {
          collect(parser("json").parseResource(line), found);
        }
      }
      return found;
    }
    collect(parser(contentType.contains("xml") ? "xml" : "json").parseResource(body), found);
    return found;
  }

  private static IParser parser(String format) {
    // strict: a body the oracle cannot read is a failed test, never zero patients
    IParser p = "xml".equals(format) ? FHIR.newXmlParser() : FHIR.newJsonParser();
    return p.setParserErrorHandler(new ca.uhn.fhir.parser.StrictErrorHandler());
  }

  static void collect(IBaseResource resource, Set<String> into) {
    if (resource instanceof Bundle b) {
      for (Bundle.BundleEntryComponent e : b.getEntry()) {
        if (e.hasResource()) {
          collect(e.getResource(), into);
        }
        if (e.hasResponse() && e.getResponse().hasOutcome()) {
          collect(e.getResponse().getOutcome(), into);
        }
      }
      return;
    }
    if (resource instanceof Parameters p) {
      for (Parameters.ParametersParameterComponent part : p.getParameter()) {
        if (part.hasResource()) {
          collect(part.getResource(), into);
        }
      }
      return;
    }
    if ("Patient".equals(resource.fhirType()) && resource.getIdElement().hasIdPart()) {
      into.add("Patient/" + resource.getIdElement().getIdPart());
    }
    FhirTerser terser = FHIR.newTerser();
    for (IIdType owner : terser.getCompartmentOwnersForResource("Patient", resource, Set.of())) {
      if (owner.hasIdPart()) {
        into.add("Patient/" + owner.getIdPart());
      }
    }
    if (resource instanceof DomainResource d) {
      for (Resource contained : d.getContained()) {
        collect(contained, into);
      }
    }
  }
}
