package org.fhirwall.fhir;

import java.util.Locale;
import java.util.Optional;

/**
 * Every FHIR R4 RESTful interaction fhirwall knows. Anything else is refused before it is
 * classified, so a {@code switch} over this enum never needs a permissive default.
 *
 * <p>{@link #code()} is the name used in policy files; it follows the CapabilityStatement codes
 * where FHIR defines one.
 */
public enum Interaction {
  READ("read"),
  VREAD("vread"),
  UPDATE("update"),
  PATCH("patch"),
  DELETE("delete"),
  CREATE("create"),
  HISTORY_INSTANCE("history-instance"),
  HISTORY_TYPE("history-type"),
  HISTORY_SYSTEM("history-system"),
  SEARCH_TYPE("search-type"),
  SEARCH_SYSTEM("search-system"),
  SEARCH_COMPARTMENT("search-compartment"),
  /** The next (or previous, first, last) page of a search, through a link fhirwall signed. */
  PAGE("page"),
  CAPABILITIES("capabilities"),
  BATCH("batch"),
  TRANSACTION("transaction"),
  OPERATION_SYSTEM("operation-system"),
  OPERATION_TYPE("operation-type"),
  OPERATION_INSTANCE("operation-instance");

  private final String code;

  Interaction(String code) {
    this.code = code;
  }

  /** The policy-file name of this interaction, e.g. {@code search-type}. */
  public String code() {
    return code;
  }

  public boolean isSearch() {
    return this == SEARCH_TYPE || this == SEARCH_SYSTEM || this == SEARCH_COMPARTMENT || this == PAGE;
  }

  public boolean isHistory() {
    return this == HISTORY_INSTANCE || this == HISTORY_TYPE || this == HISTORY_SYSTEM;
  }

  /** A create, update, patch or delete. */
  public boolean isWrite() {
    return this == CREATE || this == UPDATE || this == PATCH || this == DELETE;
  }

  public boolean isOperation() {
    return this == OPERATION_SYSTEM || this == OPERATION_TYPE || this == OPERATION_INSTANCE;
  }

  public static Optional<Interaction> fromCode(String code) {
    String c = code.toLowerCase(Locale.ROOT);
    for (Interaction i : values()) {
      if (i.code.equals(c)) {
        return Optional.of(i);
      }
    }
    return Optional.empty();
  }
}
