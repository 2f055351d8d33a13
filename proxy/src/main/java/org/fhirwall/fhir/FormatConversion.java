package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Converts FHIR bodies between JSON (what fhirwall asks the EPR for) and XML (what some clients
 * ask fhirwall for), with HAPI FHIR's parsers. Thread-safe; each call makes its own parser.
 * Costly: callers run it off the event loops.
 */
public final class FormatConversion {
  private final FhirContext context;

  public FormatConversion(FhirContext context) {
    this.context = requireNonNull(context, "context");
  }

  /** JSON resource bytes to XML bytes; throws {@link ca.uhn.fhir.parser.DataFormatException} when not a resource. */
  public byte[] jsonToXml(byte[] json, boolean pretty) {
    IBaseResource resource = context.newJsonParser().parseResource(new String(json, StandardCharsets.UTF_8));
    IParser xml = context.newXmlParser().setPrettyPrint(pretty);
    return xml.encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
  }
}
