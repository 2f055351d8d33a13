package org.fhirwall.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import java.util.Optional;
import org.fhirwall.audit.AuditRecord.Outcome;
import org.fhirwall.audit.Trail;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.ParseResult;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.respond.Answer;
import org.fhirwall.respond.PublicCapabilities;
import org.fhirwall.respond.Refusals;
import org.fhirwall.upstream.Forwarding;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamResult;

/**
 * What fhirwall answers without a token, beside the sequencer: CORS preflights, SMART discovery
 * ({@code /.well-known/smart-configuration}) and the public CapabilityStatement ({@code /metadata}).
 * Nothing here names a patient; each answer still ends in one audit record ({@link Endings}).
 */
final class PublicAnswers {
  private final ChannelHandlerContext ctx;
  private final Stages stages;
  private final Upstream upstream;
  private final ProxySettings settings;
  private final HttpRequest head;
  private final Steps steps;
  private final Endings end;

  PublicAnswers(ChannelHandlerContext ctx, Stages stages, Upstream upstream, ProxySettings settings, HttpRequest head,
      Steps steps, Endings end) {
    this.ctx = ctx;
    this.stages = stages;
    this.upstream = upstream;
    this.settings = settings;
    this.head = head;
    this.steps = steps;
    this.end = end;
  }

  /** Answers one public request (never {@link PublicEndpoints.Route#NONE}). */
  void answer(Trail arrived, PublicEndpoints.Route route) {
    PublicAccess access = stages.publicAccess();
    switch (route) {
      case PREFLIGHT -> {
        Answer ok = PublicEndpoints.preflight(head, access.cors());
        if (ok == null) {
          refuse(arrived, PublicEndpoints.preflightRefused(head, access.cors()), Outcome.REFUSED, "cors-preflight");
        } else {
          end.answer(ok);
        }
      }
      case SMART_CONFIGURATION -> steps.await(arrived, java.util.Objects.requireNonNull(access.smart()).endpoints(),
          idp -> idp.ifPresentOrElse(
              e -> end.answer(PublicEndpoints.json(e.json().getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/json")),
              () -> refuse(arrived, Refusals.authenticationUnavailable(), Outcome.FAILED, "smart-configuration")),
          e -> refuse(arrived, Refusals.authenticationUnavailable(), Outcome.FAILED, "smart-configuration"));
      case METADATA -> steps.await(arrived, java.util.Objects.requireNonNull(access.smart()).endpoints(),
          idp -> idp.ifPresentOrElse(idpEndpoints -> publicMetadata(arrived, idpEndpoints),
              () -> refuse(arrived, Refusals.authenticationUnavailable(), Outcome.FAILED, "metadata")),
          e -> refuse(arrived, Refusals.authenticationUnavailable(), Outcome.FAILED, "metadata"));
      case NONE -> throw new IllegalStateException("not a public request");
    }
  }

  /** The EPR's CapabilityStatement, reduced to its public part, with where to log in. */
  private void publicMetadata(Trail arrived, org.fhirwall.auth.SmartConfiguration.Endpoints idp) {
    byte[] kept = stages.publicAccess().metadata().fresh(stages.clock().instant());
    if (kept != null) {
      end.answer(PublicEndpoints.json(kept, "application/fhir+json;charset=utf-8"));
      return;
    }
    RawRequest raw = RequestIds.raw(head, new byte[0]);
    ParseResult parsed = stages.parser().parse(raw);
    if (parsed instanceof ParseResult.Rejected rejected) {
      refuse(arrived, rejected.refusal(), Outcome.REFUSED, "request-form");
      return;
    }
    FhirRequest request = ((ParseResult.Parsed) parsed).request();
    if (request.interaction() != Interaction.CAPABILITIES) {
      refuse(arrived, Refusal.of(400, org.fhirwall.fhir.IssueType.NOT_SUPPORTED, "not a capabilities request"), Outcome.REFUSED,
          "metadata");
      return;
    }
    Forwarding.Client client = new Forwarding.Client(arrived.remoteAddress(), settings.publicScheme(), settings.publicHost(),
        arrived.requestId());
    upstream.send(ctx.channel().eventLoop(), Forwarding.of(request.withParams(List.of()), client)).addListener(f -> steps.run(arrived, () -> {
      UpstreamResult result = (UpstreamResult) f.getNow();
      if (result instanceof UpstreamResult.Failure failure) {
        refuse(arrived, Refusals.upstream(failure), Outcome.FAILED, "upstream");
        return;
      }
      EprAnswer a = EprAnswer.of((UpstreamResult.Response) result);
      Optional<byte[]> shown = a.status() == 200 ? PublicCapabilities.of(a.body(), idp, settings.publicBaseUrl()) : Optional.empty();
      if (shown.isEmpty()) {
        refuse(arrived, Refusals.unreadable(), Outcome.FAILED, "metadata");
        return;
      }
      stages.publicAccess().metadata().keep(shown.get(), stages.clock().instant());
      end.answer(PublicEndpoints.json(shown.get(), "application/fhir+json;charset=utf-8"));
    }));
  }

  private void refuse(Trail t, Refusal refusal, Outcome outcome, String rule) {
    end.refuse(t, refusal, outcome, rule, List.of());
  }
}
