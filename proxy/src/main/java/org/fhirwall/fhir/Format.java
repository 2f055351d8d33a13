package org.fhirwall.fhir;

/** A FHIR wire format. Towards the EPR fhirwall always asks for {@link #JSON}. */
public enum Format {
  JSON("application/fhir+json"),
  XML("application/fhir+xml"),
  /** Newline-delimited JSON, the bulk-data file format. */
  NDJSON("application/fhir+ndjson");

  private final String mimeType;

  Format(String mimeType) {
    this.mimeType = mimeType;
  }

  public String mimeType() {
    return mimeType;
  }

  /** The Content-Type header value for a body of this format. */
  public String contentType() {
    return mimeType + ";charset=UTF-8";
  }
}
