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
import org.hl7.fhir.r4.model.Encounter;
import org.jspecify.annotations.Nullable;

/** Encounter: search by {@code _id}, subject (chains into Patient), patient, participant, practitioner, status and location. */
final class EncounterProvider extends StoredResourceProvider<Encounter> {

  EncounterProvider(DemoStore store) {
    super(store, Encounter.class);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = Encounter.SP_SUBJECT) @Nullable ReferenceAndListParam subject,
      @OptionalParam(name = Encounter.SP_PATIENT) @Nullable ReferenceAndListParam patient,
      @OptionalParam(name = Encounter.SP_PARTICIPANT) @Nullable ReferenceAndListParam participant,
      @OptionalParam(name = Encounter.SP_PRACTITIONER) @Nullable ReferenceAndListParam practitioner,
      @OptionalParam(name = Encounter.SP_STATUS) @Nullable TokenAndListParam status,
      @OptionalParam(name = Encounter.SP_LOCATION) @Nullable ReferenceAndListParam location,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "subject", subject, "patient", patient, "participant", participant,
        "practitioner", practitioner, "status", status, "location", location), includes, revIncludes);
  }
}
