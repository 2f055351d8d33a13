package org.fhirwall.demo;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.jspecify.annotations.Nullable;

/**
 * Gives every 4xx answer its OperationOutcome before HAPI's default exception handler sees it;
 * that handler logs a WARN line for each answer it has to build an outcome for, and a 404 or a
 * 400 is the EPR working, not a fault worth a line per request. Server errors (5xx, unexpected
 * exceptions) are left to HAPI, which logs them.
 */
@Interceptor
final class QuietClientErrors {

  @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
  public @Nullable BaseServerResponseException withOutcome(Throwable exception) {
    if (!(exception instanceof BaseServerResponseException answer) || answer.getStatusCode() >= 500) {
      return null;
    }
    if (answer.getOperationOutcome() == null) {
      OperationOutcome outcome = new OperationOutcome();
      outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(issueType(answer.getStatusCode()))
          .setDiagnostics(answer.getMessage());
      answer.setOperationOutcome(outcome);
    }
    return answer;
  }

  static IssueType issueType(int status) {
    return switch (status) {
      case 401 -> IssueType.LOGIN;
      case 403 -> IssueType.FORBIDDEN;
      case 404, 410 -> IssueType.NOTFOUND;
      case 405, 501 -> IssueType.NOTSUPPORTED;
      case 409, 412 -> IssueType.CONFLICT;
      case 422 -> IssueType.PROCESSING;
      default -> IssueType.INVALID;
    };
  }
}
