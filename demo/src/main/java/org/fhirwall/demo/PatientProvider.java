package org.fhirwall.demo;

import ca.uhn.fhir.model.api.IQueryParameterAnd;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.model.valueset.BundleTypeEnum;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.RawParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.DateAndListParam;
import ca.uhn.fhir.rest.param.ReferenceAndListParam;
import ca.uhn.fhir.rest.param.ReferenceOrListParam;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.StringAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import java.util.Map;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.jspecify.annotations.Nullable;

/**
 * Patient: search by {@code _id}, name, family, given, birthdate, gender, identifier,
 * general-practitioner and organization; compartment searches ({@code Patient/p1/Observation}
 * and the other clinical types); {@code $everything} for one patient or all.
 */
final class PatientProvider extends StoredResourceProvider<Patient> {

  PatientProvider(DemoStore store) {
    super(store, Patient.class);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = Patient.SP_NAME) @Nullable StringAndListParam name,
      @OptionalParam(name = Patient.SP_FAMILY) @Nullable StringAndListParam family,
      @OptionalParam(name = Patient.SP_GIVEN) @Nullable StringAndListParam given,
      @OptionalParam(name = Patient.SP_BIRTHDATE) @Nullable DateAndListParam birthdate,
      @OptionalParam(name = Patient.SP_GENDER) @Nullable TokenAndListParam gender,
      @OptionalParam(name = Patient.SP_IDENTIFIER) @Nullable TokenAndListParam identifier,
      @OptionalParam(name = Patient.SP_GENERAL_PRACTITIONER) @Nullable ReferenceAndListParam generalPractitioner,
      @OptionalParam(name = Patient.SP_ORGANIZATION) @Nullable ReferenceAndListParam organization,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "name", name, "family", family, "given", given, "birthdate", birthdate,
        "gender", gender, "identifier", identifier, "general-practitioner", generalPractitioner,
        "organization", organization), includes, revIncludes);
  }

  @Search(compartmentName = "Observation", allowUnknownParams = true)
  public IBundleProvider observations(@IdParam IdType patient,
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "code") @Nullable TokenAndListParam code,
      @OptionalParam(name = "category") @Nullable TokenAndListParam category,
      @OptionalParam(name = "date") @Nullable DateAndListParam date,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return compartment(unknown, "Observation", patient, params("_id", id, "code", code, "category", category, "date", date),
        includes);
  }

  @Search(compartmentName = "Condition", allowUnknownParams = true)
  public IBundleProvider conditions(@IdParam IdType patient,
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "code") @Nullable TokenAndListParam code,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return compartment(unknown, "Condition", patient, params("_id", id, "code", code), includes);
  }

  @Search(compartmentName = "MedicationRequest", allowUnknownParams = true)
  public IBundleProvider medicationRequests(@IdParam IdType patient,
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "code") @Nullable TokenAndListParam code,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return compartment(unknown, "MedicationRequest", patient, params("_id", id, "code", code), includes);
  }

  @Search(compartmentName = "Encounter", allowUnknownParams = true)
  public IBundleProvider encounters(@IdParam IdType patient,
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return compartment(unknown, "Encounter", patient, params("_id", id), includes);
  }

  @Search(compartmentName = "DocumentReference", allowUnknownParams = true)
  public IBundleProvider documentReferences(@IdParam IdType patient,
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return compartment(unknown, "DocumentReference", patient, params("_id", id), includes);
  }

  /** {@code Patient/p1/$everything}: the patient, its compartment and the practitioners and organizations it refers to. */
  @Operation(name = "$everything", idempotent = true, bundleType = BundleTypeEnum.SEARCHSET)
  public IBundleProvider everything(@IdParam IdType patient) {
    return new SearchResults(store, store.everything(patient.getIdPart()), Set.of(), Set.of());
  }

  /** {@code Patient/$everything}: the same for every patient, patient by patient. */
  @Operation(name = "$everything", idempotent = true, bundleType = BundleTypeEnum.SEARCHSET)
  public IBundleProvider everythingForAll() {
    return new SearchResults(store, store.everything(null), Set.of(), Set.of());
  }

  private IBundleProvider compartment(@Nullable Map<String, List<String>> unknown, String type, IdType patient,
      Map<String, IQueryParameterAnd<?>> params, @Nullable Set<Include> includes) {
    params.put("patient", new ReferenceAndListParam().addAnd(
        new ReferenceOrListParam().addOr(new ReferenceParam("Patient/" + patient.getIdPart()))));
    return search(type, unknown, params, includes, null);
  }
}
