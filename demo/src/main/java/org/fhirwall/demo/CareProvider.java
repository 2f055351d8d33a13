package org.fhirwall.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.RawParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.StringAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * CareTeam, EpisodeOfCare, PractitionerRole and Location: the care relationships of the demo's
 * clinicians. Each type accepts the parameters {@link SearchParams} indexes for it (a parameter the
 * type does not have is refused by the store with a 400): subject, patient, participant, status
 * (CareTeam); patient, care-manager, status (EpisodeOfCare); practitioner, location, active
 * (PractitionerRole); name (Location).
 */
final class CareProvider<T extends Resource> extends StoredResourceProvider<T> {

  CareProvider(DemoStore store, Class<T> resourceClass) {
    super(store, resourceClass);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "subject") @Nullable ReferenceAndListParam subject,
      @OptionalParam(name = "patient") @Nullable ReferenceAndListParam patient,
      @OptionalParam(name = "participant") @Nullable ReferenceAndListParam participant,
      @OptionalParam(name = "care-manager") @Nullable ReferenceAndListParam careManager,
      @OptionalParam(name = "practitioner") @Nullable ReferenceAndListParam practitioner,
      @OptionalParam(name = "location") @Nullable ReferenceAndListParam location,
      @OptionalParam(name = "status") @Nullable TokenAndListParam status,
      @OptionalParam(name = "active") @Nullable TokenAndListParam active,
      @OptionalParam(name = "name") @Nullable StringAndListParam name,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "subject", subject, "patient", patient, "participant", participant,
        "care-manager", careManager, "practitioner", practitioner, "location", location, "status", status, "active", active,
        "name", name), includes, revIncludes);
  }
}
