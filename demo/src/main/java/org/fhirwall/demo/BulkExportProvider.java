package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.jspecify.annotations.Nullable;

/**
 * FHIR Bulk Data export, the asynchronous request pattern as HAPI FHIR JPA serves it.
 *
 * <ul>
 *   <li>Kick-off: {@code GET|POST [base]/$export}, {@code [base]/Patient/$export},
 *       {@code [base]/Group/{id}/$export}, with {@code _type} (comma list or repeated; default
 *       Patient, Observation, Condition, MedicationRequest, Encounter), {@code _outputFormat}
 *       ({@code application/fhir+ndjson}, {@code application/ndjson} or {@code ndjson}) and
 *       {@code _since} (an instant). Needs {@code Prefer: respond-async}; any other parameter, an
 *       unknown type, or for the patient forms a type outside the patient compartment is a 400.
 *       Answers 202, an informational OperationOutcome and
 *       {@code Content-Location: [base]/$export-poll-status?_jobId={id}}.
 *   <li>Poll: {@code GET [base]/$export-poll-status?_jobId={id}}: 202 with
 *       {@code X-Progress: in progress} and {@code Retry-After: 1} on the first poll and while the
 *       job runs, then 200 {@code application/json} with the manifest (file URLs
 *       {@code [base]/Binary/{id}}, with {@code count}); 500 with an OperationOutcome when the job
 *       failed; 404 for an unknown or cancelled job. {@code DELETE} on that URL cancels (202) and
 *       deletes the files.
 * </ul>
 *
 * <p>{@code [base]} is the server base as the request saw it (HAPI's address strategy), so the
 * URLs name whatever authority the client used. The files are Binary resources, read through
 * {@link BinaryProvider}. Thread-safe (the store and the jobs are).
 */
final class BulkExportProvider {

  static final String POLL_STATUS = "$export-poll-status";
  /** The types an export without {@code _type} writes. */
  static final List<String> DEFAULT_TYPES = List.of("Patient", "Observation", "Condition", "MedicationRequest",
      "Encounter");
  private static final Set<String> KICK_OFF_PARAMETERS = Set.of("_type", "_outputFormat", "_since");
  private static final Set<String> OUTPUT_FORMATS = Set.of(ExportJobs.NDJSON, "application/ndjson", "ndjson");
  private static final JsonFactory JSON = new JsonFactory();

  private final DemoStore store;
  private final ExportJobs jobs;
  private final Set<String> systemTypes;
  private final Set<String> compartmentTypes;

  BulkExportProvider(DemoStore store, ExportJobs jobs) {
    this.store = requireNonNull(store, "store");
    this.jobs = requireNonNull(jobs, "jobs");
    Set<String> system = new LinkedHashSet<>(store.resourceTypes());
    // Export files are not themselves exported.
    system.remove("Binary");
    this.systemTypes = Set.copyOf(system);
    Set<String> compartment = new LinkedHashSet<>();
    compartment.add("Patient");
    compartment.addAll(SearchParams.COMPARTMENT_TYPES);
    this.compartmentTypes = Set.copyOf(compartment);
  }

  @Operation(name = "$export", idempotent = true, manualResponse = true)
  public void systemExport(
      @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) @Nullable List<StringType> type,
      @OperationParam(name = "_outputFormat") @Nullable StringType outputFormat,
      @OperationParam(name = "_since") @Nullable InstantType since,
      ServletRequestDetails details) throws IOException {
    checkKickOff(details, outputFormat);
    kickOff(details, new ExportRequest.Scope.System(), types(type, systemTypes), since);
  }

  @Operation(name = "$export", type = Patient.class, idempotent = true, manualResponse = true)
  public void patientExport(
      @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) @Nullable List<StringType> type,
      @OperationParam(name = "_outputFormat") @Nullable StringType outputFormat,
      @OperationParam(name = "_since") @Nullable InstantType since,
      ServletRequestDetails details) throws IOException {
    checkKickOff(details, outputFormat);
    kickOff(details, new ExportRequest.Scope.AllPatients(), types(type, compartmentTypes), since);
  }

  @Operation(name = "$export", type = Group.class, idempotent = true, manualResponse = true)
  public void groupExport(
      @IdParam IdType groupId,
      @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) @Nullable List<StringType> type,
      @OperationParam(name = "_outputFormat") @Nullable StringType outputFormat,
      @OperationParam(name = "_since") @Nullable InstantType since,
      ServletRequestDetails details) throws IOException {
    checkKickOff(details, outputFormat);
    List<String> selected = types(type, compartmentTypes);
    List<String> members = new ArrayList<>();
    for (String key : store.read("Group", groupId.getIdPart()).keys().getOrDefault("member", List.of())) {
      if (key.startsWith("Patient/")) {
        members.add(key.substring("Patient/".length()));
      }
    }
    kickOff(details, new ExportRequest.Scope.Members(members), selected, since);
  }

  @Operation(name = POLL_STATUS, idempotent = true, deleteEnabled = true, manualResponse = true)
  public void pollStatus(@OperationParam(name = "_jobId") @Nullable StringType jobIdParam,
      ServletRequestDetails details) throws IOException {
    checkParameters(details, Set.of("_jobId"));
    String jobId = jobIdParam == null ? null : jobIdParam.getValue();
    if (jobId == null || jobId.isBlank()) {
      throw new InvalidRequestException(POLL_STATUS + " needs the parameter _jobId");
    }
    HttpServletResponse response = details.getServletResponse();
    if (details.getRequestType() == RequestTypeEnum.DELETE) {
      if (!jobs.cancel(jobId)) {
        throw unknownJob(jobId);
      }
      writeOutcome(response, 202, IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
          "Bulk export job " + jobId + " was cancelled and its files deleted");
      return;
    }
    ExportJob.Status status = jobs.poll(jobId);
    if (status == null) {
      throw unknownJob(jobId);
    }
    if (status instanceof ExportJob.Status.InProgress) {
      response.setStatus(202);
      response.setHeader("X-Progress", "in progress");
      response.setHeader("Retry-After", "1");
      response.setContentLength(0);
    } else if (status instanceof ExportJob.Status.Complete complete) {
      writeManifest(response, details.getFhirServerBase(), complete);
    } else {
      writeOutcome(response, 500, IssueSeverity.ERROR, IssueType.EXCEPTION, ((ExportJob.Status.Failed) status).reason());
    }
  }

  private void kickOff(ServletRequestDetails details, ExportRequest.Scope scope, List<String> types,
      @Nullable InstantType since) throws IOException {
    Instant sinceInstant = since == null || since.getValue() == null ? null : since.getValue().toInstant();
    ExportJob job = jobs.submit(new ExportRequest(types, scope, sinceInstant, details.getCompleteUrl()));
    HttpServletResponse response = details.getServletResponse();
    response.setHeader("Content-Location", details.getFhirServerBase() + "/" + POLL_STATUS + "?_jobId=" + job.id());
    writeOutcome(response, 202, IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        "Bulk export job " + job.id() + " accepted; poll the Content-Location for its files");
  }

  private static void checkKickOff(ServletRequestDetails details, @Nullable StringType outputFormat) {
    if (!respondAsync(details.getHeaders("Prefer"))) {
      throw new InvalidRequestException("Bulk export needs the header Prefer: respond-async");
    }
    checkParameters(details, KICK_OFF_PARAMETERS);
    if (outputFormat != null && outputFormat.getValue() != null
        && !OUTPUT_FORMATS.contains(outputFormat.getValue().trim().toLowerCase(Locale.ROOT))) {
      throw new InvalidRequestException("_outputFormat: " + outputFormat.getValue()
          + " (expected: application/fhir+ndjson, application/ndjson or ndjson)");
    }
  }

  /** Refuses what this server would otherwise ignore ({@code _typeFilter}, {@code patient}, ...): fail closed. */
  private static void checkParameters(ServletRequestDetails details, Set<String> allowed) {
    Set<String> unknown = new TreeSet<>(details.getParameters().keySet());
    unknown.removeAll(allowed);
    if (!unknown.isEmpty()) {
      throw new InvalidRequestException("Unsupported parameter" + (unknown.size() > 1 ? "s " : " ")
          + String.join(", ", unknown) + " for " + details.getOperation() + " (expected some of: "
          + String.join(", ", new TreeSet<>(allowed)) + ")");
    }
  }

  private static boolean respondAsync(@Nullable List<String> preferHeaders) {
    if (preferHeaders == null) {
      return false;
    }
    for (String header : preferHeaders) {
      for (String preference : header.split(",")) {
        int semicolon = preference.indexOf(';');
        String token = (semicolon < 0 ? preference : preference.substring(0, semicolon)).trim();
        if ("respond-async".equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  private static List<String> types(@Nullable List<StringType> params, Set<String> allowed) {
    if (params == null || params.isEmpty()) {
      return DEFAULT_TYPES;
    }
    Set<String> types = new LinkedHashSet<>();
    for (StringType param : params) {
      String value = param.getValue() == null ? "" : param.getValue();
      for (String type : value.split(",", -1)) {
        String trimmed = type.trim();
        if (!allowed.contains(trimmed)) {
          throw new InvalidRequestException("_type: " + (trimmed.isEmpty() ? "(empty)" : trimmed)
              + " (expected some of: " + String.join(", ", new TreeSet<>(allowed)) + ")");
        }
        types.add(trimmed);
      }
    }
    return List.copyOf(types);
  }

  private static ResourceNotFoundException unknownJob(String jobId) {
    return new ResourceNotFoundException("No bulk export job " + jobId + " (unknown, or cancelled)");
  }

  private static void writeManifest(HttpServletResponse response, String base, ExportJob.Status.Complete complete)
      throws IOException {
    response.setStatus(200);
    // JSON is UTF-8 by definition; the manifest's type is exactly what HAPI FHIR JPA sends.
    response.setContentType("application/json");
    try (OutputStream out = response.getOutputStream(); JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("transactionTime", complete.transactionTime().toString());
      json.writeStringField("request", complete.request());
      json.writeBooleanField("requiresAccessToken", true);
      json.writeArrayFieldStart("output");
      for (ExportJob.OutputFile file : complete.output()) {
        json.writeStartObject();
        json.writeStringField("type", file.type());
        json.writeStringField("url", base + "/Binary/" + file.binaryId());
        json.writeNumberField("count", file.count());
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeArrayFieldStart("error");
      json.writeEndArray();
      json.writeEndObject();
    }
  }

  private void writeOutcome(HttpServletResponse response, int status, IssueSeverity severity, IssueType code,
      String diagnostics) throws IOException {
    OperationOutcome outcome = new OperationOutcome();
    outcome.addIssue().setSeverity(severity).setCode(code).setDiagnostics(diagnostics);
    byte[] body = store.context().newJsonParser().encodeResourceToString(outcome).getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("application/fhir+json;charset=utf-8");
    response.setContentLength(body.length);
    try (OutputStream out = response.getOutputStream()) {
      out.write(body);
    }
  }
}
