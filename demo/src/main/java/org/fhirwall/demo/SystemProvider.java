package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Date;
import org.hl7.fhir.r4.model.Bundle;
import org.jspecify.annotations.Nullable;

/** The server-level interactions: batch/transaction ({@code POST /fhir}) and system history ({@code GET /fhir/_history}). */
final class SystemProvider {

  private final DemoStore store;
  private final TransactionProcessor transactions;

  SystemProvider(DemoStore store, TransactionProcessor transactions) {
    this.store = requireNonNull(store, "store");
    this.transactions = requireNonNull(transactions, "transactions");
  }

  @Transaction
  public Bundle transaction(@TransactionParam Bundle bundle, RequestDetails details) {
    return transactions.process(bundle, details);
  }

  @History
  public IBundleProvider systemHistory(@Since @Nullable Date since, @Offset @Nullable Integer offset) {
    return HistoryResults.of(store, store.history(null, null, since == null ? null : since.toInstant()), offset);
  }
}
