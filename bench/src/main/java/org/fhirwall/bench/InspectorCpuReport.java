package org.fhirwall.bench;

import ca.uhn.fhir.context.FhirContext;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The same comparison as {@link InspectorBench} (fhirwall's inspector against HAPI FHIR's full
 * parse of the same Bundle), measured in CPU time of the measuring thread rather than wall time,
 * with the two sides interleaved round by round: on a machine shared with other work, time spent
 * descheduled falls out of both, so the ratio holds where JMH's wall-clock ratios swing. Not a
 * replacement for JMH (no fork per benchmark, no blackhole; results are consumed by hand): a
 * second opinion. {@code java -cp bench/target/benchmarks.jar org.fhirwall.bench.InspectorCpuReport [rounds] [json|xml]}
 * (both formats unless one is named).
 */
public final class InspectorCpuReport {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static volatile Object sink;

  private InspectorCpuReport() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    FhirContext fhir = FhirContext.forR4Cached();
    ResponseInspector inspector = new ResponseInspector(fhir, PatientCompartment.from(fhir),
        new InspectorSettings(List.of(Bundles.BASE), 256L << 20, 64));
    System.out.printf(Locale.ROOT, "%-8s %-6s %10s %15s %15s %8s   (CPU time, median of %d interleaved rounds)%n", "entries",
        "format", "bytes", "inspector MB/s", "HAPI parse MB/s", "ratio", rounds);
    String[] formats = args.length > 1 ? new String[] {args[1]} : new String[] {"json", "xml"};
    for (String format : formats) {
      for (int entries : new int[] {1, 50, 1000}) {
        byte[] bytes = Bundles.encode(fhir, Bundles.searchset(entries), format);
        ResponseBody body = new ResponseBody(bytes, format.equals("xml") ? "application/fhir+xml" : "application/fhir+json", null);
        Inspection check = inspector.inspect(body);
        if (!(check instanceof Inspection.Read read) || !read.patients().equals(Bundles.patientKeys(entries))) {
          throw new IllegalStateException("the inspector did not find the bundle's patients: " + check);
        }
        Supplier<Object> inspect = () -> inspector.inspect(body);
        Supplier<Object> parse = () -> format.equals("xml")
            ? fhir.newXmlParser().parseResource(Bundle.class, new ByteArrayInputStream(bytes))
            : fhir.newJsonParser().parseResource(Bundle.class, new ByteArrayInputStream(bytes));
        for (int w = 0; w < 8; w++) { // warm-up, by CPU time so that a loaded machine warms up as much
          opsPerCpuSecond(inspect, 300);
          opsPerCpuSecond(parse, 300);
        }
        double[] ratios = new double[rounds];
        double[] inspectorRates = new double[rounds];
        double[] hapiRates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          inspectorRates[r] = opsPerCpuSecond(inspect, 200);
          hapiRates[r] = opsPerCpuSecond(parse, 200);
          ratios[r] = inspectorRates[r] / hapiRates[r];
        }
        System.out.printf(Locale.ROOT, "%-8d %-6s %10d %15.1f %15.1f %7.1fx%n", entries, format, bytes.length,
            median(inspectorRates) * bytes.length / 1e6, median(hapiRates) * bytes.length / 1e6, median(ratios));
      }
    }
  }

  /** Runs {@code op} for about {@code millis} of this thread's CPU time; returns operations per CPU second. */
  private static double opsPerCpuSecond(Supplier<Object> op, long millis) {
    long budget = millis * 1_000_000L;
    long start = THREADS.getCurrentThreadCpuTime();
    long ops = 0;
    long used;
    do {
      for (int i = 0; i < 16; i++) {
        sink = op.get();
      }
      ops += 16;
      used = THREADS.getCurrentThreadCpuTime() - start;
    } while (used < budget);
    return ops / (used / 1e9);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
