package org.fhirwall.bench;

import ca.uhn.fhir.context.FhirContext;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.hl7.fhir.r4.model.Bundle;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * fhirwall's response inspector against HAPI FHIR's full parse of the same searchset Bundle (the
 * baseline): 1, 50 and 1,000 entries, JSON and XML. Throughput in operations per second; the
 * report ({@link InspectorReport}) turns it into MB/s and patients/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class InspectorBench {
  @Param({"1", "50", "1000"})
  public int entries;

  @Param({"json", "xml"})
  public String format;

  private FhirContext fhir;
  private ResponseInspector inspector;
  private ResponseBody body;
  private byte[] bytes;

  @Setup
  public void setUp() {
    fhir = FhirContext.forR4Cached();
    inspector = new ResponseInspector(fhir, PatientCompartment.from(fhir),
        new InspectorSettings(List.of(Bundles.BASE), 256L << 20, 64));
    bytes = Bundles.encode(fhir, Bundles.searchset(entries), format);
    body = new ResponseBody(bytes, format.equals("xml") ? "application/fhir+xml" : "application/fhir+json", null);
    Inspection check = inspector.inspect(body);
    if (!(check instanceof Inspection.Read read) || !read.patients().equals(Bundles.patientKeys(entries))) {
      throw new IllegalStateException("the inspector did not find the bundle's " + Bundles.patients(entries) + " patients: " + check);
    }
  }

  /** What fhirwall does to every response that may carry patient data. */
  @Benchmark
  public Inspection inspector() {
    return inspector.inspect(body);
  }

  /** The baseline: HAPI FHIR's full parse of the same bytes into its model. */
  @Benchmark
  public Bundle hapiParse() {
    return format.equals("xml")
        ? fhir.newXmlParser().parseResource(Bundle.class, new ByteArrayInputStream(bytes))
        : fhir.newJsonParser().parseResource(Bundle.class, new ByteArrayInputStream(bytes));
  }

  /** The body size, for MB/s. */
  public static int bytes(int entries, String format) {
    return Bundles.encode(FhirContext.forR4Cached(), Bundles.searchset(entries), format).length;
  }
}
