package org.fhirwall.server;

import java.util.Map;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.inspect.BatchOutcomes;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.PatientKeys;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.policy.Decision;
import org.fhirwall.respond.Plan;
import org.fhirwall.respond.Responder;

/**
 * What the inspect stage made of an EPR answer: the patients it discloses — with those the
 * request named, since any answer about them (a count, an empty page, a 404) tells of them, and
 * those its {@code Location} headers point at (a conditional create that matched tells where) — and
 * how many of its answers found nothing (a 404 read, or each 404 entry of a batch: the enumeration
 * signal counts them one by one) or told of matches without showing them: a write answered 404 or 412 (its
 * criteria, or a conditional reference in its body, matched no record or several), a transaction answered 404 or 412
 * (it fails whole with its entry's status), a batch entry answered 412.
 *
 * <p>{@code fillsAPage}: for a count fhirwall resolves from one page (2xx), whether that page is full,
 * links to more or cannot be read to tell (then the count is refused once the page is charged); judged
 * here, where the body is read (off the event loop when it is large), not where it is charged.
 */
record Inspected(Inspection inspection, int notFound, boolean fillsAPage) {

  static Inspected of(Stages stages, Plan plan, Decision.Allow allow, EprAnswer a) {
    Inspection inspection = plan.bulkManifest() && a.status() == 200 ? stages.responder().manifest(a.body())
        : stages.inspector().inspect(new ResponseBody(a.body(), a.contentType(), a.contentEncoding()));
    if (!(inspection instanceof Inspection.Read read)) {
      org.slf4j.LoggerFactory.getLogger(Inspected.class).warn("upstream response could not be inspected: {}",
          ((Inspection.Unreadable) inspection).reason());
      return new Inspected(inspection, 0, false);
    }
    if (a.status() < 500) {
      read = read.withPatients(stages.patients().named(allow.request()));
    }
    read = located(read, a);
    Interaction i = allow.request().interaction();
    int notFound = 0;
    if ((i == Interaction.READ || i == Interaction.VREAD) && (a.status() == 404 || a.status() == 410)) {
      notFound = 1;
    } else if (i.isWrite() && (a.status() == 404 || a.status() == 410 || a.status() == 412)
        || i == Interaction.TRANSACTION && (a.status() == 404 || a.status() == 412)) {
      // criteria (a conditional write's, or a conditional reference's in its body) matched nothing or several records,
      // or the record written to is missing (a transaction fails whole with its entry's status); a 412 may also be a
      // version precondition: over-counting is safe
      notFound = 1;
    } else if ((i == Interaction.BATCH || i == Interaction.TRANSACTION) && a.status() < 300) {
      notFound = BatchOutcomes.notFound(read.json());
    }
    boolean full = allow.countOnly() && a.status() / 100 == 2 && Responder.fillsAPage(read, allow.role().search().maxCount());
    return new Inspected(read, notFound, full);
  }

  /** The read with the patients the answer's {@code Location} and {@code Content-Location} headers point at. */
  private static Inspection.Read located(Inspection.Read read, EprAnswer a) {
    Inspection.Read out = read;
    for (Map.Entry<String, String> h : a.headers()) {
      if (h.getKey().equalsIgnoreCase("Location") || h.getKey().equalsIgnoreCase("Content-Location")) {
        out = out.withPatients(PatientKeys.located(h.getValue()));
      }
    }
    return out;
  }
}
