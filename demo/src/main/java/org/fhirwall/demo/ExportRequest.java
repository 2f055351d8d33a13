package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one bulk export kick-off asked for, checked: the resource types (at least one, no
 * duplicates), whose resources, changed since when, and the kick-off URL the manifest repeats.
 */
record ExportRequest(List<String> types, Scope scope, @Nullable Instant since, String requestUrl) {

  ExportRequest {
    types = List.copyOf(types);
    if (types.isEmpty()) {
      throw new IllegalArgumentException("types: [] (expected: at least one resource type)");
    }
    requireNonNull(scope, "scope");
    requireNonNull(requestUrl, "requestUrl");
  }

  /** Whose resources an export writes. */
  sealed interface Scope {
    /** {@code [base]/$export}: every resource of the requested types. */
    record System() implements Scope {}

    /** {@code [base]/Patient/$export}: every patient and the resources in their compartments. */
    record AllPatients() implements Scope {}

    /** {@code [base]/Group/{id}/$export}: the group's patients and the resources in their compartments. */
    record Members(List<String> patientIds) implements Scope {
      public Members {
        patientIds = List.copyOf(patientIds);
      }
    }
  }
}
