package org.fhirwall.respond;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.junit.jupiter.api.Test;

class ShortPagesTest {
  static final String EPR = "http://epr.test/fhir";
  static final ca.uhn.fhir.context.FhirContext FHIR = ca.uhn.fhir.context.FhirContext.forR4Cached();
  static final ResponseInspector INSPECTOR = new ResponseInspector(FHIR, PatientCompartment.from(FHIR),
      new InspectorSettings(List.of(EPR), 1 << 20, 64));

  static Inspection.Read page(boolean next, int patients) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[");
    sb.append("{\"relation\":\"self\",\"url\":\"").append(EPR).append("/Patient\"}");
    if (next) {
      sb.append(",{\"relation\":\"next\",\"url\":\"").append(EPR).append("?_getpages=a&_getpagesoffset=2\"}");
    }
    sb.append("],\"entry\":[");
    for (int i = 0; i < patients; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"").append(EPR).append("/Patient/p").append(i)
          .append("\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p").append(i).append("\"}}");
    }
    byte[] json = sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    return (Inspection.Read) INSPECTOR.inspect(new ResponseBody(json, "application/fhir+json", null));
  }

  @Test
  void aPageThatLinksToMoreYetHoldsFewerThanItsCountWasCutShortByTheEpr() {
    assertThat(ShortPages.isCutShort(50, 200, page(true, 20))).isTrue();
  }

  @Test
  void aFullPageALastPageAndAnAnswerThatIsNoSearchPageAreNot() {
    assertThat(ShortPages.isCutShort(20, 200, page(true, 20))).as("full, links to more").isFalse();
    assertThat(ShortPages.isCutShort(50, 200, page(false, 20))).as("the last page").isFalse();
    assertThat(ShortPages.isCutShort(0, 200, page(true, 20))).as("no page size: not a search page").isFalse();
    assertThat(ShortPages.isCutShort(50, 404, page(true, 20))).as("not a 2xx").isFalse();
  }

  @Test
  void itWarnsAtMostOnceEveryTenMinutesAndTellsEveryTime() {
    AtomicLong now = new AtomicLong(1_000);
    ShortPages pages = new ShortPages(now::get);
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ShortPages.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    log.addAppender(appender);
    try {
      Inspection.Read shortPage = page(true, 3);
      assertThat(pages.check(10, 200, shortPage, "r1")).isTrue();
      assertThat(pages.check(10, 200, shortPage, "r2")).isTrue();
      now.addAndGet(ShortPages.EVERY_NANOS - 1);
      assertThat(pages.check(10, 200, shortPage, "r3")).isTrue();
      now.addAndGet(1);
      assertThat(pages.check(10, 200, shortPage, "r4")).isTrue();
      assertThat(pages.check(10, 200, page(true, 10), "r5")).isFalse();
      assertThat(appender.list).extracting(e -> e.getArgumentArray()[0]).containsExactly("r1", "r4");
      assertThat(appender.list.get(0).getFormattedMessage()).contains("3 resources", "_count 10", "upstream.max-page-size");
    } finally {
      log.detachAppender(appender);
    }
  }
}
