package org.fhirwall.care;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.jspecify.annotations.Nullable;

/**
 * Which writes through fhirwall make or change a care relationship: a create, update, patch or
 * delete of an Encounter, CareTeam, EpisodeOfCare or PractitionerRole, alone or as an entry of a
 * batch or transaction. Such a write is audited as a relationship change; it explains nobody until
 * it has stood for {@code write-delay} (the relationship source reads its {@code meta.lastUpdated}),
 * so a principal allowed to write cannot explain a stranger at once. Pure.
 */
public final class RelationshipChanges {
  private RelationshipChanges() {}

  /**
   * A patient-free description of the relationship writes of {@code request}, empty when it makes
   * none; {@code location} is the EPR's {@code Location} header (a create's new id), if any.
   */
  public static Optional<String> of(FhirRequest request, @Nullable String location) {
    List<String> written = new ArrayList<>();
    collect(request, location, written);
    for (FhirRequest.BundleEntry e : request.entries()) {
      collect(e.request(), null, written);
    }
    if (written.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(String.join(", ", written) + " written through fhirwall: a care relationship it makes counts only "
        + "once it has stood unchanged for relationships.write-delay");
  }

  private static void collect(FhirRequest r, @Nullable String location, List<String> into) {
    String type = r.resourceType();
    if (type == null || !RelationshipSettings.RELATIONSHIP_TYPES.contains(type) || !isWrite(r.interaction())) {
      return;
    }
    String id = r.id();
    if (id == null && location != null) {
      String ref = RelationshipQueries.relativeReference(location, type);
      id = ref == null ? null : ref.substring(type.length() + 1);
    }
    into.add(r.interaction().code() + " " + type + (id == null ? "" : "/" + id));
  }

  private static boolean isWrite(Interaction i) {
    return switch (i) {
      case CREATE, UPDATE, PATCH, DELETE -> true;
      default -> false;
    };
  }
}
