package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.policy.Fhir.bundle;
import static org.fhirwall.policy.Fhir.get;
import static org.fhirwall.policy.Fhir.req;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.policy.ExportOwnership.Bound;
import org.fhirwall.policy.ExportOwnership.File;
import org.fhirwall.policy.ExportOwnership.Job;
import org.fhirwall.policy.ExportOwnership.Touch;
import org.junit.jupiter.api.Test;

/** Which bulk export bindings a request touches, and the judgement on the owners found. */
class ExportOwnershipTest {
  static final String ME = "https://idp|warehouse";
  static final String OTHER = "https://idp|other-warehouse";

  @Test
  void aStatusPollTouchesItsJobAndAReadOfABinaryItsFile() {
    assertThat(ExportOwnership.touch(get("$export-poll-status?_jobId=job-1")))
        .isEqualTo(new Touch.Claims(List.of(new Job("job-1"))));
    assertThat(ExportOwnership.touch(get("Binary/file-1", "Accept: application/fhir+ndjson")))
        .isEqualTo(new Touch.Claims(List.of(new File("file-1"))));
    assertThat(ExportOwnership.touch(req("DELETE", "Binary/file-1", ""))).isEqualTo(new Touch.Claims(List.of(new File("file-1"))));
    assertThat(ExportOwnership.touch(get("Binary/file-1/_history/1"))).isEqualTo(new Touch.Claims(List.of(new File("file-1"))));
  }

  @Test
  void aCancelTouchesItsJobLikeItsPollAndIsRefusedAsItStandsLikeIt() {
    Touch poll = ExportOwnership.touch(get("$export-poll-status?_jobId=job-1"));
    assertThat(ExportOwnership.touch(req("DELETE", "$export-poll-status?_jobId=job-1", ""))).isEqualTo(poll);
    for (String target : List.of("$export-poll-status", "$export-poll-status?_jobId=job-1&_jobId=job-2")) {
      assertThat(ExportOwnership.touch(req("DELETE", target, ""))).as(target)
          .isInstanceOfSatisfying(Touch.Refused.class, r -> assertThat(r.deny())
              .isEqualTo(((Touch.Refused) ExportOwnership.touch(get(target))).deny()));
    }
  }

  @Test
  void aCancelIsADeleteOfOneJobsStatusUrl() {
    assertThat(ExportOwnership.cancels(req("DELETE", "$export-poll-status?_jobId=job-1", ""))).contains(new Job("job-1"));
    assertThat(ExportOwnership.cancels(get("$export-poll-status?_jobId=job-1"))).isEmpty();
    assertThat(ExportOwnership.cancels(req("DELETE", "$export-poll-status?_jobId=job-1&_jobId=job-2", ""))).isEmpty();
    assertThat(ExportOwnership.cancels(req("DELETE", "Binary/file-1", ""))).isEmpty();
  }

  @Test
  void aBatchTouchesWhatItsEntriesTouch() {
    assertThat(ExportOwnership.touch(bundle("batch", "GET Patient/1", "GET Binary/file-1", "GET Binary/file-2")))
        .isEqualTo(new Touch.Claims(List.of(new File("file-1"), new File("file-2"))));
  }

  @Test
  void otherRequestsTouchNothingBeforeTheEprAnswers() {
    assertThat(ExportOwnership.touch(get("Patient/1"))).isEqualTo(new Touch.Nothing());
    assertThat(ExportOwnership.touch(get("$export?_type=Patient", "Prefer: respond-async"))).isEqualTo(new Touch.Nothing());
    // a search finds files by what it matches: judged on the answer (ExportOwnership.inAnswer)
    assertThat(ExportOwnership.touch(get("Binary?_id=file-1"))).isEqualTo(new Touch.Nothing());
  }

  @Test
  void aPollWhoseJobFhirwallCannotSeeIsRefusedAsItStands() {
    for (var poll : List.of(get("$export-poll-status"), get("$export-poll-status?_jobId=job-1&_jobId=job-2"),
        req("POST", "$export-poll-status?_jobId=job-1",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_jobId\",\"valueString\":\"job-2\"}]}"))) {
      assertThat(ExportOwnership.touch(poll)).isInstanceOfSatisfying(Touch.Refused.class, r -> {
        assertThat(r.deny().rule()).isEqualTo(ExportOwnership.RULE);
        assertThat(r.deny().kind()).isEqualTo(Decision.Kind.FORBIDDEN);
      });
    }
  }

  @Test
  void aJobIsOnlyItsOwnersAndAJobOfNobodyIsNobodys() {
    Job job = new Job("job-1");
    assertThat(ExportOwnership.judge(ME, Map.of(job, Optional.of(ME)))).isEmpty();
    Optional<Decision.Deny> other = ExportOwnership.judge(ME, Map.of(job, Optional.of(OTHER)));
    Optional<Decision.Deny> nobody = ExportOwnership.judge(ME, Map.of(job, Optional.empty()));
    assertThat(other).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo("export-not-yours");
      assertThat(d.reason()).doesNotContain(OTHER);
    });
    assertThat(nobody).as("the same refusal: no oracle of whose a job is").isEqualTo(other);
  }

  @Test
  void aFileIsOnlyItsOwnersAndABinaryOfNobodyIsAnOrdinaryBinary() {
    File file = new File("file-1");
    assertThat(ExportOwnership.judge(ME, Map.of(file, Optional.of(ME)))).isEmpty();
    assertThat(ExportOwnership.judge(ME, Map.of(file, Optional.empty()))).isEmpty();
    assertThat(ExportOwnership.judge(ME, Map.of(file, Optional.of(OTHER), new File("file-2"), Optional.of(ME))))
        .hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo("export-not-yours"));
  }

  @Test
  void theFilesOfAnAnswerAreTheBinariesInItNotJudgedBefore() {
    List<Bound> checked = List.of(new File("file-1"));
    assertThat(ExportOwnership.inAnswer(Set.of("file-1", "file-2"), checked)).containsExactly(new File("file-2"));
    assertThat(ExportOwnership.inAnswer(Set.of("file-1"), checked)).isEmpty();
  }

  @Test
  void keysNameWhatIsBound() {
    assertThat(new Job("job-1").key()).isEqualTo("export-job:job-1");
    assertThat(new File("file-1").key()).isEqualTo("export-file:file-1");
  }
}
