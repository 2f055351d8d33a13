package org.fhirwall.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.fhirwall.policy.RolePolicy;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * Plays the November 2024 incident against a running {@link DemoEnvironment}, as an HTTP client
 * of fhirwall would, and counts from the answers (not from fhirwall's own bookkeeping) how many
 * patients each actor carried away.
 */
public final class IncidentScript {
  /** The demo clinicians' token role, mapped to the demo's {@code clinician} policy. */
  static final String CLINICIAN_ROLE = "physician";
  private static final int MAX_PAGES = 1_000;

  private final DemoEnvironment env;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();

  public IncidentScript(DemoEnvironment env) {
    this.env = env;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** The demo clinicians' {@code fhirUser} claims: whose care relationships explain their access. */
  static final Map<String, String> FHIR_USERS = Map.of("dr.martin", CareAssignments.MARTIN, "dr.durand", CareAssignments.DURAND);

  /**
   * A token for one of the demo's clinicians: MFA-backed or password only, with its SMART
   * {@code fhirUser} claim for Dr Martin and Dr Durand.
   */
  public String clinicianToken(String username, boolean withOtp, Duration loggedInAgo) {
    return env.issuer().mint(clinicianClaims(username, withOtp, loggedInAgo), null, fhirUser(username));
  }

  /** The {@code fhirUser} claim of a demo clinician with care relationships; none for the others. */
  private static Map<String, Object> fhirUser(String username) {
    String fhirUser = FHIR_USERS.get(username);
    return fhirUser == null ? Map.of() : Map.of("fhirUser", fhirUser);
  }

  private static DemoIssuer.Claims clinicianClaims(String username, boolean withOtp, Duration loggedInAgo) {
    Instant now = Instant.now();
    return new DemoIssuer.Claims(
        "user-" + username, username, Set.of(CLINICIAN_ROLE), "1",
        withOtp ? List.of("pwd", "otp") : List.of("pwd"), now.minus(loggedInAgo),
        UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(30));
  }

  /**
   * What a client holds: an access token and, for a DPoP-bound one, the private key that never
   * leaves the clinician's device (null for a bearer token).
   */
  public record Credential(String token, @Nullable DpopKey key) {
    public static Credential bearer(String token) {
      return new Credential(token, null);
    }
  }

  /** An MFA-backed clinician's token bound to the DPoP key of her device. */
  public Credential clinicianOnDevice(String username, Duration loggedInAgo) {
    DpopKey device = DpopKey.generate();
    return new Credential(env.issuer().mint(clinicianClaims(username, true, loggedInAgo), device.thumbprint(),
        fhirUser(username)), device);
  }

  public DemoReport play() throws IOException, InterruptedException {
    long start = System.nanoTime();
    int inEpr = env.store().count("Patient");
    DemoReport.Workday workday = workday();
    DemoReport.PasswordOnly passwordOnly = passwordOnly();
    DemoReport.StolenSession stolen = stolenSession();
    DemoReport.StolenDpopToken stolenDpop = stolenDpopToken();
    return new DemoReport(inEpr, workday, passwordOnly, stolen, stolenDpop, (System.nanoTime() - start) / 1_000_000);
  }

  /** Scene 1: Dr Martin logs in with password and OTP and works through her patient list. */
  DemoReport.Workday workday() throws IOException, InterruptedException {
    return workday(clinicianOnDevice("dr.martin", Duration.ofHours(2)), true, Duration.ZERO);
  }

  /**
   * The same working day (20 patients' charts, and one {@code $everything} when {@code everything}),
   * for a clinician holding {@code roles} who logged in {@code loggedInAgo}, opening a chart every
   * {@code perChart} at most: how the shipped role policies are checked against an ordinary day.
   */
  public DemoReport.Workday workday(Set<String> roles, Duration loggedInAgo, boolean everything, Duration perChart)
      throws IOException, InterruptedException {
    Instant now = Instant.now();
    DpopKey device = DpopKey.generate();
    String token = env.issuer().mint(new DemoIssuer.Claims("user-day-" + UUID.randomUUID(), "day.clinician", roles, "1",
        List.of("pwd", "otp"), now.minus(loggedInAgo), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web",
        Duration.ofMinutes(30)), device.thumbprint());
    return workday(new Credential(token, device), everything, perChart);
  }

  private DemoReport.Workday workday(Credential token, boolean withEverything, Duration perChart)
      throws IOException, InterruptedException {
    Set<String> seen = new HashSet<>();
    int ok = 0;
    int refused = 0;
    List<String> patients = env.store().samplePatientIds(20, 7);
    for (String id : patients) {
      Thread.sleep(perChart.toMillis());
      for (String path : List.of("Patient/" + id, "Observation?subject=Patient/" + id + "&_count=20",
          "Condition?patient=Patient/" + id, "MedicationRequest?patient=Patient/" + id)) {
        Answer a = get(path, token);
        if (a.status() == 200) {
          ok++;
          seen.addAll(a.patients());
        } else {
          refused++;
        }
      }
    }
    if (withEverything) {
      Answer everything = get("Patient/" + patients.get(0) + "/$everything", token);
      if (everything.status() == 200) {
        ok++;
        seen.addAll(everything.patients());
      } else {
        refused++;
      }
    }
    Set<String> inCare = new HashSet<>(CareAssignments.martinsPatients(env.store().count("Patient")));
    inCare.retainAll(seen);
    return new DemoReport.Workday(ok, refused, seen.size(), inCare.size());
  }

  /**
   * Scene 4: the attacker copies Dr Martin's DPoP-bound token (from a proxy log, a browser
   * extension, a memory dump), and even one of her proofs, but not the key on her device. Sent as
   * a bearer token, under DPoP without a proof, with a proof of the attacker's own key, and with
   * her captured proof replayed: refused every time.
   */
  DemoReport.StolenDpopToken stolenDpopToken() throws IOException, InterruptedException {
    Credential clinician = clinicianOnDevice("dr.martin", Duration.ofMinutes(30));
    // her own patients (strangers' records would meet the role's unexplained budget, not the point here)
    String target = "Patient?_id=" + String.join(",",
        CareAssignments.sample(env.store().count("Patient"), 10, CareAssignments.MARTIN_SEED));
    String url = env.proxyBase() + "/" + target;
    String captured = clinician.key().proof("GET", url, clinician.token());
    Answer legit = send(target, "DPoP " + clinician.token(), captured);
    DpopKey attackersKey = DpopKey.generate();
    List<Answer> tries = List.of(
        send(target, "Bearer " + clinician.token(), null),
        send(target, "DPoP " + clinician.token(), null),
        send(target, "DPoP " + clinician.token(), attackersKey.proof("GET", url, clinician.token())),
        send(target, "DPoP " + clinician.token(), captured));
    Set<String> disclosed = new HashSet<>();
    int refused = 0;
    for (Answer a : tries) {
      if (a.status() == 200) {
        disclosed.addAll(a.patients());
      } else {
        refused++;
      }
    }
    String challenge = tries.get(0).challenge();
    return new DemoReport.StolenDpopToken(tries.size(), refused, tries.get(0).status(), challenge == null ? "" : challenge,
        disclosed.size(), legit.status());
  }

  /** Scene 2: the attacker has Dr Martin's password, but not her phone. */
  DemoReport.PasswordOnly passwordOnly() throws IOException, InterruptedException {
    String token = clinicianToken("dr.martin", false, Duration.ZERO);
    Set<String> disclosed = new HashSet<>();
    int first = 0;
    String challenge = "";
    int requests = 0;
    for (String path : List.of("Patient?_count=50", "Patient/" + env.store().samplePatientIds(1, 3).get(0),
        "Observation?_count=50")) {
      Answer a = get(path, token);
      requests++;
      if (first == 0) {
        first = a.status();
        challenge = a.challenge() == null ? "" : a.challenge();
      }
      if (a.status() == 200) {
        disclosed.addAll(a.patients());
      }
    }
    return new DemoReport.PasswordOnly(requests, first, challenge, disclosed.size());
  }

  /**
   * Scene 3: the attacker holds a live, MFA-backed session of Dr Durand and pages through every
   * patient, a few at a time (a page of 5: small pages stay under any per-request rule), then tries
   * other query shapes.
   */
  DemoReport.StolenSession stolenSession() throws IOException, InterruptedException {
    String token = clinicianToken("dr.durand", true, Duration.ofHours(1));
    Set<String> disclosed = new LinkedHashSet<>();
    int requests = 0;
    int ok = 0;
    int cutOff = 0;
    String next = "Patient?_count=5";
    boolean byUnexplained = false;
    for (int page = 0; next != null && page < MAX_PAGES; page++) {
      Answer a = get(next, token);
      requests++;
      if (a.status() != 200) {
        cutOff = a.status();
        byUnexplained = a.diagnostics().contains("outside the principal's care relationships");
        break;
      }
      ok++;
      disclosed.addAll(a.patients());
      next = a.next();
    }
    boolean locked = true;
    for (String path : List.of("Observation?_count=50", "Patient/" + env.store().samplePatientIds(1, 11).get(0),
        "Patient?_count=5")) {
      Answer a = get(path, token);
      requests++;
      if (a.status() == 200) {
        ok++;
        locked = false;
        disclosed.addAll(a.patients());
      }
    }
    int alerts = awaitAlerts();
    Set<String> strangers = new HashSet<>(disclosed);
    durandsPatients().forEach(strangers::remove);
    return new DemoReport.StolenSession(roleLimit(), requests, ok, disclosed.size(), cutOff, locked, alerts, unexplainedLimit(),
        strangers.size(), byUnexplained);
  }

  private List<String> durandsPatients() {
    return CareAssignments.sample(env.store().count("Patient"), 5, CareAssignments.DURAND_SEED).stream()
        .map(id -> "Patient/" + id).toList();
  }

  /** The smallest limit of the clinicians' role on patients outside their care (0 when it has none). */
  int unexplainedLimit() {
    return env.fhirwall().policies().get().policies().roles().stream()
        .filter(r -> r.roles().contains(CLINICIAN_ROLE))
        .map(RolePolicy::unexplainedLimits)
        .flatMap(List::stream)
        .mapToInt(PatientWindow::max)
        .min()
        .orElse(0);
  }

  private int awaitAlerts() throws InterruptedException {
    for (int i = 0; i < 50 && env.alerts().isEmpty(); i++) {
      Thread.sleep(20);
    }
    return env.alerts().size();
  }

  /** The smallest distinct-patient limit of the clinicians' role. */
  int roleLimit() {
    return env.fhirwall().policies().get().policies().roles().stream()
        .filter(r -> r.roles().contains(CLINICIAN_ROLE))
        .map(RolePolicy::patientLimits)
        .flatMap(List::stream)
        .mapToInt(PatientWindow::max)
        .min()
        .orElse(0);
  }

  /** One answer, seen from the client's side; {@code diagnostics} of a refusal's OperationOutcome, else empty. */
  record Answer(int status, Set<String> patients, @Nullable String next, @Nullable String challenge, String diagnostics) {}

  Answer get(String pathOrUrl, String token) throws IOException, InterruptedException {
    return send(pathOrUrl, "Bearer " + token, null);
  }

  /** A GET with the credential: as a DPoP-bound token with a fresh proof of its key when it has one. */
  Answer get(String pathOrUrl, Credential c) throws IOException, InterruptedException {
    DpopKey key = c.key();
    if (key == null) {
      return get(pathOrUrl, c.token());
    }
    String url = pathOrUrl.startsWith("http") ? pathOrUrl : env.proxyBase() + "/" + pathOrUrl;
    return send(pathOrUrl, "DPoP " + c.token(), key.proof("GET", url, c.token()));
  }

  private Answer send(String pathOrUrl, String authorization, @Nullable String proof) throws IOException, InterruptedException {
    String url = pathOrUrl.startsWith("http") ? pathOrUrl : env.proxyBase() + "/" + pathOrUrl;
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url))
        .header("Authorization", authorization)
        .header("Accept", "application/fhir+json")
        .timeout(Duration.ofSeconds(30))
        .GET();
    if (proof != null) {
      builder.header("DPoP", proof);
    }
    HttpRequest request = builder.build();
    HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    Set<String> patients = new HashSet<>();
    String next = null;
    if (response.statusCode() == 200 && response.body().length > 0) {
      JsonNode body = json.readTree(response.body());
      collectPatients(body, patients);
      for (JsonNode link : body.path("link")) {
        if ("next".equals(link.path("relation").asText())) {
          next = link.path("url").asText();
        }
      }
    }
    String diagnostics = "";
    if (response.statusCode() >= 400 && response.body().length > 0) {
      try {
        diagnostics = json.readTree(response.body()).path("issue").path(0).path("diagnostics").asText("");
      } catch (IOException e) {
        diagnostics = "";
      }
    }
    return new Answer(response.statusCode(), patients, next, response.headers().firstValue("WWW-Authenticate").orElse(null),
        diagnostics);
  }

  /** Every Patient resource and every reference to a patient anywhere in the body. */
  public static void collectPatients(JsonNode node, Set<String> into) {
    if (node.isObject()) {
      if ("Patient".equals(node.path("resourceType").asText()) && node.hasNonNull("id")) {
        into.add("Patient/" + node.get("id").asText());
      }
      JsonNode ref = node.get("reference");
      if (ref != null && ref.isTextual()) {
        String r = ref.asText();
        int at = r.indexOf("Patient/");
        if (at >= 0 && (at == 0 || r.charAt(at - 1) == '/')) {
          String id = r.substring(at + "Patient/".length());
          int slash = id.indexOf('/');
          into.add("Patient/" + (slash < 0 ? id : id.substring(0, slash)));
        }
      }
      for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
        collectPatients(it.next(), into);
      }
    } else if (node.isArray()) {
      for (JsonNode child : node) {
        collectPatients(child, into);
      }
    }
  }
}
