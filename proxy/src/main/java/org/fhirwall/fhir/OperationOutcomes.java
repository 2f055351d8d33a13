package org.fhirwall.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Renders a {@link Refusal} as a FHIR R4 {@code OperationOutcome} with one issue (severity
 * {@code error}, the refusal's issue code, its diagnostics), and a success reported as one
 * ({@link #information}). Written directly, without HAPI, so a
 * refusal costs microseconds. Characters that JSON or XML cannot carry (unpaired surrogates, XML
 * control characters) are replaced by U+FFFD. Stateless and thread-safe.
 */
public final class OperationOutcomes {
  private static final JsonFactory JSON = new JsonFactory();

  private OperationOutcomes() {}

  /** The OperationOutcome in {@code format}: XML for {@link Format#XML}, JSON otherwise (NDJSON too). */
  public static byte[] render(Refusal refusal, Format format) {
    String diagnostics = clean(refusal.diagnostics());
    return switch (format) {
      case JSON, NDJSON -> json("error", refusal.code().code(), diagnostics);
      case XML -> xml("error", refusal.code().code(), diagnostics);
    };
  }

  /**
   * An outcome that reports success (one issue: severity {@code information}, code
   * {@code informational}), in {@code format} like {@link #render}.
   */
  public static byte[] information(String diagnostics, Format format) {
    String d = clean(diagnostics);
    return switch (format) {
      case JSON, NDJSON -> json("information", "informational", d);
      case XML -> xml("information", "informational", d);
    };
  }

  private static byte[] json(String severity, String code, String diagnostics) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + diagnostics.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "OperationOutcome");
      g.writeArrayFieldStart("issue");
      g.writeStartObject();
      g.writeStringField("severity", severity);
      g.writeStringField("code", code);
      if (!diagnostics.isBlank()) {
        g.writeStringField("diagnostics", diagnostics);
      }
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] xml(String severity, String code, String diagnostics) {
    StringBuilder sb = new StringBuilder(160 + diagnostics.length());
    sb.append("<OperationOutcome xmlns=\"http://hl7.org/fhir\"><issue><severity value=\"").append(severity)
        .append("\"/><code value=\"").append(code).append("\"/>");
    if (!diagnostics.isBlank()) {
      sb.append("<diagnostics value=\"");
      escapeAttribute(sb, diagnostics);
      sb.append("\"/>");
    }
    sb.append("</issue></OperationOutcome>");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void escapeAttribute(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&apos;");
        // Attribute-value normalisation would turn raw whitespace controls into spaces.
        case '\t' -> sb.append("&#9;");
        case '\n' -> sb.append("&#10;");
        case '\r' -> sb.append("&#13;");
        default -> sb.append(c);
      }
    }
  }

  /** Replaces what neither JSON nor XML 1.0 can carry: unpaired surrogates, C0 controls but tab/CR/LF, U+FFFE/U+FFFF. */
  private static String clean(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean bad;
      if (Character.isHighSurrogate(c)) {
        bad = i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        if (!bad) {
          if (sb != null) {
            sb.append(c).append(s.charAt(i + 1));
          }
          i++;
          continue;
        }
      } else {
        bad = Character.isLowSurrogate(c) || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            || c == '\uFFFE' || c == '\uFFFF';
      }
      if (bad && sb == null) {
        sb = new StringBuilder(s.length());
        sb.append(s, 0, i);
      }
      if (sb != null) {
        sb.append(bad ? '\uFFFD' : c);
      }
    }
    return sb == null ? s : sb.toString();
  }
}
