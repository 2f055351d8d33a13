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
import org.hl7.fhir.r4.model.Group;
import org.jspecify.annotations.Nullable;

/** Group: search by {@code _id} and member. */
final class GroupProvider extends StoredResourceProvider<Group> {

  GroupProvider(DemoStore store) {
    super(store, Group.class);
  }

  @Search(allowUnknownParams = true)
  public IBundleProvider search(
      @OptionalParam(name = "_id") @Nullable TokenAndListParam id,
      @OptionalParam(name = Group.SP_MEMBER) @Nullable ReferenceAndListParam member,
      @IncludeParam @Nullable Set<Include> includes,
      @RawParam @Nullable Map<String, List<String>> unknown) {
    return search(unknown, params("_id", id, "member", member), includes, null);
  }
}
