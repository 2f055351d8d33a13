package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Observation;
import org.junit.jupiter.api.Test;

/** Bulk export jobs without HTTP: jobs run when the test says (a captured or an immediate executor). */
class ExportJobsTest {

  private static final IParser PARSER = FhirContext.forR4Cached().newJsonParser();
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T08:00:00Z"), ZoneOffset.UTC);

  @Test
  void filesAreSplitEveryThousandResourcesAndStoredAsNdjsonBinaries() {
    DemoStore store = DemoStore.of(SyntheticData.generate(5, 400), CLOCK);
    int observations = store.count("Observation");
    assertThat(observations).isBetween(ExportJobs.RESOURCES_PER_FILE + 1, 2 * ExportJobs.RESOURCES_PER_FILE);
    ExportJobs jobs = new ExportJobs(store, Runnable::run);

    ExportJob job = jobs.submit(request(List.of("Observation", "Condition"), new ExportRequest.Scope.System()));

    assertThat(jobs.poll(job.id())).isInstanceOf(ExportJob.Status.InProgress.class);
    ExportJob.Status.Complete complete = (ExportJob.Status.Complete) jobs.poll(job.id());
    assertThat(complete.transactionTime()).isEqualTo(CLOCK.instant());
    assertThat(complete.request()).isEqualTo("http://epr/fhir/$export");
    assertThat(complete.output()).extracting(ExportJob.OutputFile::binaryId).containsExactly(
        job.id() + "-Observation-1", job.id() + "-Observation-2", job.id() + "-Condition-1");
    assertThat(complete.output()).extracting(ExportJob.OutputFile::count).containsExactly(
        ExportJobs.RESOURCES_PER_FILE, observations - ExportJobs.RESOURCES_PER_FILE, store.count("Condition"));
    List<String> ids = new ArrayList<>();
    for (ExportJob.OutputFile file : complete.output().subList(0, 2)) {
      Binary binary = (Binary) store.get("Binary", file.binaryId()).orElseThrow();
      assertThat(binary.getContentType()).isEqualTo("application/fhir+ndjson");
      String[] lines = new String(binary.getData(), StandardCharsets.UTF_8).split("\n");
      assertThat(lines).hasSize(file.count());
      for (String line : lines) {
        ids.add(PARSER.parseResource(Observation.class, line).getIdElement().getIdPart());
      }
    }
    assertThat(ids).doesNotHaveDuplicates().hasSize(observations);
  }

  @Test
  void membersAreExportedOnceAndMissingOnesSkipped() {
    DemoStore store = DemoStore.of(SyntheticData.generate(5, 20), CLOCK);
    DemoStore.ExportSnapshot snapshot = store.exportSnapshot(List.of("Patient", "Encounter"),
        new ExportRequest.Scope.Members(List.of("p3", "p3", "p999", "p4")), null);

    assertThat(snapshot.byType().get("Patient")).extracting(StoredVersion::id).containsExactly("p3", "p4");
    assertThat(snapshot.byType().get("Encounter")).isNotEmpty().allSatisfy(
        e -> assertThat(e.keys().get("patient")).containsAnyOf("Patient/p3", "Patient/p4"));
  }

  @Test
  void aJobCancelledBeforeItRunsStoresNothing() {
    DemoStore store = DemoStore.of(SyntheticData.generate(5, 20), CLOCK);
    List<Runnable> queued = new ArrayList<>();
    ExportJobs jobs = new ExportJobs(store, queued::add);
    int binaries = store.count("Binary");

    ExportJob job = jobs.submit(request(List.of("Patient"), new ExportRequest.Scope.AllPatients()));
    assertThat(jobs.cancel(job.id())).isTrue();
    queued.forEach(Runnable::run);

    assertThat(store.count("Binary")).isEqualTo(binaries);
    assertThat(jobs.poll(job.id())).isNull();
    assertThat(jobs.cancel(job.id())).isFalse();
  }

  @Test
  void cancellingACompleteJobDeletesItsFiles() {
    DemoStore store = DemoStore.of(SyntheticData.generate(5, 20), CLOCK);
    ExportJobs jobs = new ExportJobs(store, Runnable::run);
    int binaries = store.count("Binary");
    ExportJob job = jobs.submit(request(List.of("Patient", "Condition"), new ExportRequest.Scope.AllPatients()));
    assertThat(store.count("Binary")).isEqualTo(binaries + 2);

    assertThat(jobs.cancel(job.id())).isTrue();

    assertThat(store.count("Binary")).isEqualTo(binaries);
    assertThat(store.get("Binary", job.id() + "-Patient-1")).isEmpty();
  }

  @Test
  void aJobThatFailsSaysSoAndKeepsNoFiles() {
    DemoStore store = DemoStore.of(SyntheticData.generate(5, 20), CLOCK);
    ExportJobs jobs = new ExportJobs(store, Runnable::run);
    int binaries = store.count("Binary");

    // Practitioner is outside the patient compartment: the store refuses the snapshot.
    ExportJob job = jobs.submit(request(List.of("Practitioner"), new ExportRequest.Scope.AllPatients()));

    jobs.poll(job.id());
    assertThat(jobs.poll(job.id())).isInstanceOfSatisfying(ExportJob.Status.Failed.class,
        failed -> assertThat(failed.reason()).contains("InvalidRequestException"));
    assertThat(store.count("Binary")).isEqualTo(binaries);
  }

  private static ExportRequest request(List<String> types, ExportRequest.Scope scope) {
    return new ExportRequest(types, scope, null, "http://epr/fhir/$export");
  }
}
