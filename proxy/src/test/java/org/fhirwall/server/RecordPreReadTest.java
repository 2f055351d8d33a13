package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.fhirwall.policy.LaunchContextRecords;
import org.junit.jupiter.api.Test;

/** The version a pre-read's record carries: the {@code ETag}'s, else the top-level {@code meta.versionId}. */
class RecordPreReadTest {

  @Test
  void theVersionOfAnETagOrIfMatchIsWithoutWeakPrefixAndQuotes() {
    assertThat(LaunchContextRecords.versionOf("W/\"3\"")).isEqualTo("3");
    assertThat(LaunchContextRecords.versionOf("\"3\"")).isEqualTo("3");
    assertThat(LaunchContextRecords.versionOf(" 3 ")).isEqualTo("3");
  }

  @Test
  void onlyTheTopLevelMetaVersionIdCounts() {
    assertThat(RecordPreRead.metaVersionId(("{\"resourceType\":\"Observation\",\"contained\":[{\"resourceType\":\"Patient\","
        + "\"meta\":{\"versionId\":\"9\"}}],\"meta\":{\"lastUpdated\":\"2026-12-07T00:00:00Z\",\"versionId\":\"4\"}}")
        .getBytes(UTF_8))).isEqualTo("4");
    assertThat(RecordPreRead.metaVersionId("{\"resourceType\":\"Observation\",\"contained\":[{\"meta\":{\"versionId\":\"9\"}}]}"
        .getBytes(UTF_8))).isNull();
    assertThat(RecordPreRead.metaVersionId("{\"meta\":{\"versionId\":4}}".getBytes(UTF_8))).isNull();
    assertThat(RecordPreRead.metaVersionId("<html/>".getBytes(UTF_8))).isNull();
  }
}
