package org.fhirwall.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.Principal;

/** Realistic records (a Keycloak user, request ids as fhirwall makes them) for size and shape tests. */
final class AuditRecords {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00.123456Z");

  private AuditRecords() {}

  static Principal keycloakUser() {
    return new Principal(Principal.Kind.USER, "https://keycloak.hospital.example/realms/hospital",
        "5f0c7c4e-8a7b-4f0e-9b7a-2d7c1b8e6a41", "dr.alice.martin", "fhirwall-web", Set.of("physician", "offline_access"),
        "2", Set.of("pwd", "otp"), NOW, "8d1f3a6e-2c4b-4e8f-a9d7-3b5c1e7f9a20", Set.of("openid", "profile"), null,
        NOW.plusSeconds(300), "onrtac:0b9c6d2e-7f1a-4c3b-8e5d-9a2f6b4c1d7e");
  }

  /** A read of one Patient, allowed. */
  static AuditRecord read() {
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "4bf92f3577b34da6a3ce929d0e0e4736", AuditRecord.Outcome.ALLOWED,
        200, keycloakUser(), "physician", "enforce", "GET", "read", "Patient", null, "Patient/pat-000123",
        List.of("Patient/pat-000123"), 1, Map.of("1h", 12, "24h", 40), null, "", List.of(), null, "10.20.30.40", null, 1834);
  }

  /** A 50-entry search, allowed, with its _count rewrite noted. */
  static AuditRecord search50() {
    List<String> patients = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      patients.add("Patient/pat-%06d".formatted(1000 + i));
    }
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "4bf92f3577b34da6a3ce929d0e0e4737", AuditRecord.Outcome.ALLOWED,
        200, keycloakUser(), "physician", "enforce", "GET", "search-type", "Observation", null,
        "Observation?code=http://loinc.org|8867-4&_count=50", patients, 50, Map.of("1h", 62, "24h", 90), null, "",
        List.of("_count 500 lowered to 50"), null, "10.20.30.40", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        5120);
  }
}
