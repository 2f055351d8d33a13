package org.fhirwall.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.RawParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.DateAndListParam;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Observation;
import org.jspecify.annotations.Nullable;

/** Observation: search by {@code _id}, subject (chains into Patient), patient, code, category, encounter and date. */
final class ObservationProvider extends StoredResourceProvider<Observation> {

  ObservationProvider(DemoStore store) {
    super(store, Observation.class);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = Observation.SP_SUBJECT) @Nullable ReferenceAndListParam subject,
      @OptionalParam(name = Observation.SP_PATIENT) @Nullable ReferenceAndListParam patient,
      @OptionalParam(name = Observation.SP_CODE) @Nullable TokenAndListParam code,
      @OptionalParam(name = Observation.SP_CATEGORY) @Nullable TokenAndListParam category,
      @OptionalParam(name = Observation.SP_ENCOUNTER) @Nullable ReferenceAndListParam encounter,
      @OptionalParam(name = Observation.SP_DATE) @Nullable DateAndListParam date,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "subject", subject, "patient", patient, "code", code, "category", category,
        "encounter", encounter, "date", date), includes, revIncludes);
  }
}
