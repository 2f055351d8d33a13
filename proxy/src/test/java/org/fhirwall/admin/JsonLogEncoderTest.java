package org.fhirwall.admin;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonLogEncoderTest {
  @Test
  void aLineIsOneJsonObjectWithAnIsoTimeTheRequestIdAndTheException() throws Exception {
    LoggerContext context = new LoggerContext();
    LoggingEvent event = new LoggingEvent("x", context.getLogger("org.fhirwall.server.Exchange"), Level.ERROR,
        "request {} failed \"badly\"\nin a stage", new IllegalStateException("boom"), new Object[] {"r1"});
    event.setTimeStamp(1_765_015_200_123L);
    event.setMDCPropertyMap(Map.of("request_id", "abc123"));
    byte[] line = new JsonLogEncoder().encode(event);
    String text = new String(line, UTF_8);
    assertThat(text).endsWith("\n");
    assertThat(text.strip()).doesNotContain("\n");
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.path("time").asText()).isEqualTo("2025-12-06T10:00:00.123Z");
    assertThat(json.path("level").asText()).isEqualTo("ERROR");
    assertThat(json.path("logger").asText()).isEqualTo("org.fhirwall.server.Exchange");
    assertThat(json.path("message").asText()).isEqualTo("request r1 failed \"badly\"\nin a stage");
    assertThat(json.path("request_id").asText()).isEqualTo("abc123");
    assertThat(json.path("exception").asText()).contains("IllegalStateException: boom");
  }
}
