package org.fhirwall.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.RawParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.StringAndListParam;
import ca.uhn.fhir.rest.param.TokenAndListParam;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * Practitioner and Organization: search by {@code _id}, name and identifier (and, for
 * Practitioner, family and given, which Organization answers with a 400).
 */
final class DirectoryProvider<T extends Resource> extends StoredResourceProvider<T> {

  DirectoryProvider(DemoStore store, Class<T> resourceClass) {
    super(store, resourceClass);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = "name") @Nullable StringAndListParam name,
      @OptionalParam(name = "family") @Nullable StringAndListParam family,
      @OptionalParam(name = "given") @Nullable StringAndListParam given,
      @OptionalParam(name = "identifier") @Nullable TokenAndListParam identifier,
      @IncludeParam(reverse = true) @Nullable Set<Include> revIncludes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "name", name, "family", family, "given", given, "identifier", identifier),
        null, revIncludes);
  }
}
