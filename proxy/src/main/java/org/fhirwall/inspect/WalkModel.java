package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.PatientCompartment;

/**
 * What every {@link JsonWalk} shares: the JSON factory (with the depth and size limits), the
 * compartment, the known resource types, the element names that end an owner path, and the
 * upstream bases. Immutable and thread-safe.
 */
final class WalkModel {
  final JsonFactory factory;
  final PatientCompartment compartment;
  final Set<String> knownTypes;
  final Set<String> ownerLeaves;
  final List<String> baseStrings;
  final int maxDepth;
  final long maxDecodedBytes;

  WalkModel(Set<String> knownTypes, PatientCompartment compartment, InspectorSettings settings) {
    this.compartment = requireNonNull(compartment, "compartment");
    this.knownTypes = Set.copyOf(knownTypes);
    Set<String> leaves = new HashSet<>();
    for (String type : compartment.memberTypes()) {
      for (List<String> path : compartment.ownerPaths(type)) {
        leaves.add(path.get(path.size() - 1));
      }
    }
    this.ownerLeaves = Set.copyOf(leaves);
    this.baseStrings = settings.upstreamBases();
    this.maxDepth = settings.maxDepth();
    this.maxDecodedBytes = settings.maxDecodedBytes();
    // Jackson's own nesting limit sits one above ours, so that ours reports the reason.
    this.factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(settings.maxDepth() + 1)
            .maxDocumentLength(settings.maxDecodedBytes())
            .maxStringLength((int) settings.maxDecodedBytes())
            .build())
        .build();
  }
}
