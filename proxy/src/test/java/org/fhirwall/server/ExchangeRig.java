package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.fhirwall.audit.Alarms;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AlertSink;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.Principal;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.RolePolicyLoader;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.ParserSettings;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.fhir.RequestParser;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseInspector;
import org.fhirwall.policy.PolicyEngine;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RolePolicy;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.respond.Responder;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;

/**
 * What the exchange-level tests share: the real stages (parser, policy, inspector, responder,
 * enforcement) around one role, a store and recording sinks, on an {@link EmbeddedChannel} with
 * fhirwall's HTTP handlers, and a client codec to read what it wrote.
 */
final class ExchangeRig {
  static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");
  static final String EPR = "http://epr.internal/fhir";
  static final String PUBLIC = "https://proxy/fhir";
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final DeploymentConfig.Limits LIMITS =
      new DeploymentConfig.Limits(4096, 1 << 20, 4096, 8192, 50, Duration.ofSeconds(30), Duration.ofSeconds(60), 100,
          Duration.ofSeconds(20));

  private ExchangeRig() {}

  /** Where the stages' records go, and whether the audit trail takes them. */
  record Sinks(Consumer<AuditRecord> audit, BooleanSupplier accepting, Consumer<Alert> alerts, int alertBurst) {}

  /** The stages of one role ({@code roleYaml}), at {@link #NOW}. */
  static Stages stages(String roleYaml, Authenticator idp, QuotaStore store, Sinks sinks) {
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    RolePolicy role;
    try {
      role = new RolePolicyLoader(FHIR.getResourceTypes()).parse("role.yaml", roleYaml);
    } catch (org.fhirwall.config.ConfigException e) {
      throw new AssertionError(e.getMessage(), e);
    }
    PolicyEngine engine = new PolicyEngine(new PolicySet(List.of(role)));
    PageLinks links = new PageLinks(new byte[32], Duration.ofHours(1));
    AuditSink auditSink = new AuditSink() {
      @Override
      public void write(AuditRecord record) {
        sinks.audit().accept(record);
      }

      @Override
      public long dropped() {
        return 0;
      }

      @Override
      public boolean accepting() {
        return sinks.accepting().getAsBoolean();
      }

      @Override
      public void close() {
      }
    };
    AlertSink alertSink = new AlertSink() {
      @Override
      public void alert(Alert alert) {
        sinks.alerts().accept(alert);
      }

      @Override
      public void close() {
      }
    };
    return new Stages(new RequestParser(FHIR, ParserSettings.defaults("/fhir")), RequestPatients.R4, idp, links,
        () -> engine, new ResponseInspector(FHIR, PatientCompartment.from(FHIR), new InspectorSettings(List.of(EPR), 1 << 24, 64)),
        new Responder(FHIR, EPR, PUBLIC, links), new Enforcement(store, 64, Enforcement.FailureRules.DEFAULT),
        org.fhirwall.care.CareLookup.NONE, auditSink, new Alarms(auditSink, alertSink, clock, sinks.alertBurst(),
            Duration.ofMinutes(1)), clock, Runnable::run);
  }

  /** A connection into fhirwall's handlers, answered by {@code epr}. */
  static EmbeddedChannel channel(Stages stages, Upstream epr, InFlight inFlight) {
    EmbeddedChannel channel = new EmbeddedChannel();
    FhirwallChannelInitializer.addHttpHandlers(channel.pipeline(), LIMITS);
    FhirwallChannelInitializer.addLimits(channel.pipeline(), LIMITS);
    channel.pipeline().addLast(new ExchangeHandler(stages, epr, new ProxySettings(PUBLIC, EPR, "X-Break-Glass-Reason",
        Duration.ofSeconds(5), 1 << 20), LIMITS.maxRequestBody(), inFlight));
    return channel;
  }

  /**
   * Writes {@code wire} in, lets the channel run, then {@code meanwhile}, then runs it again, and
   * decodes every answer written so far (expecting {@code count}), as heap copies nobody has to release.
   */
  static List<FullHttpResponse> answers(EmbeddedChannel channel, String wire, Runnable meanwhile, int count) {
    if (!wire.isEmpty()) {
      channel.writeInbound(Unpooled.copiedBuffer(wire, UTF_8));
    }
    channel.runPendingTasks();
    meanwhile.run();
    channel.runPendingTasks();
    List<FullHttpResponse> answers = written(channel, Math.max(count, 1));
    assertThat(answers).as("answers written").hasSize(count);
    return answers;
  }

  /** Every answer written so far (at most {@code max}), decoded as heap copies nobody has to release. */
  static List<FullHttpResponse> written(EmbeddedChannel channel, int max) {
    EmbeddedChannel client = new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(4 << 20));
    for (int i = 0; i < max; i++) {
      client.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    }
    for (Object o; (o = client.readOutbound()) != null; ) {
      ReferenceCountUtil.release(o);
    }
    for (Object out; (out = channel.readOutbound()) != null; ) {
      client.writeInbound((ByteBuf) out);
    }
    List<FullHttpResponse> answers = new ArrayList<>();
    for (FullHttpResponse r; (r = client.readInbound()) != null; ) {
      answers.add(r.replace(Unpooled.wrappedBuffer(ByteBufUtil.getBytes(r.content()))));
      r.release();
    }
    client.finishAndReleaseAll();
    return answers;
  }

  /** An IdP that signs in {@code alice} (role {@code ward}, password and one-time code) whatever the token. */
  static Authenticator wardClinician() {
    return (header, now) -> CompletableFuture.completedFuture(new AuthOutcome.Authenticated(
        new Principal(Principal.Kind.USER, "https://idp", "alice", "alice", "web", Set.of("ward"), null,
            Set.of("pwd", "otp"), NOW, "sid-1", Set.of(), null, NOW.plusSeconds(600), "jti-1")));
  }

  /** An EPR that adds each request it is sent to {@code reached} and answers it with {@code answer}, at once. */
  static Upstream epr(List<UpstreamRequest> reached, Function<UpstreamRequest, UpstreamResult> answer) {
    return new Upstream() {
      @Override
      public Future<UpstreamResult> send(EventLoop loop, UpstreamRequest request) {
        reached.add(request);
        return loop.<UpstreamResult>newPromise().setSuccess(answer.apply(request));
      }
    };
  }

  /** A Patient as the EPR answers it. */
  static String patient(String id) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"source\":\"" + EPR + "/Patient/" + id + "\"}}";
  }

  /** A searchset of these Patients as the EPR answers it. */
  static String bundle(String... ids) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[],\"entry\":[");
    for (int i = 0; i < ids.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"").append(EPR).append("/Patient/").append(ids[i])
          .append("\",\"resource\":").append(patient(ids[i])).append('}');
    }
    return sb.append("]}").toString();
  }

  static UpstreamResult json(int status, String body) {
    return new UpstreamResult.Response(status, headers("application/fhir+json"), buf(body));
  }

  static DefaultHttpHeaders headers(String contentType) {
    DefaultHttpHeaders h = new DefaultHttpHeaders();
    h.set("Content-Type", contentType);
    return h;
  }

  static ByteBuf buf(String s) {
    return Unpooled.copiedBuffer(s, UTF_8);
  }

  static String body(FullHttpResponse r) {
    return r.content().toString(UTF_8);
  }
}
