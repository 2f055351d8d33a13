package org.fhirwall.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.RawParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/** Condition and MedicationRequest: search by {@code _id}, subject (chains into Patient), patient and code. */
final class CodedClinicalProvider<T extends Resource> extends StoredResourceProvider<T> {

  CodedClinicalProvider(DemoStore store, Class<T> resourceClass) {
    super(store, resourceClass);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "subject") @Nullable ReferenceAndListParam subject,
      @OptionalParam(name = "patient") @Nullable ReferenceAndListParam patient,
      @OptionalParam(name = "code") @Nullable TokenAndListParam code,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "subject", subject, "patient", patient, "code", code), includes, revIncludes);
  }
}
