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
import org.hl7.fhir.r4.model.DocumentReference;
import org.jspecify.annotations.Nullable;

/** DocumentReference: search by {@code _id}, subject (chains into Patient), patient and type. */
final class DocumentReferenceProvider extends StoredResourceProvider<DocumentReference> {

  DocumentReferenceProvider(DemoStore store) {
    super(store, DocumentReference.class);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = DocumentReference.SP_SUBJECT) @Nullable ReferenceAndListParam subject,
      @OptionalParam(name = DocumentReference.SP_PATIENT) @Nullable ReferenceAndListParam patient,
      @OptionalParam(name = DocumentReference.SP_TYPE) @Nullable TokenAndListParam type,
      @IncludeParam @Nullable Set<Include> includes,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "subject", subject, "patient", patient, "type", type), includes, revIncludes);
  }
}
