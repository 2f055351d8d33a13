package org.fhirwall.respond;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fhirwall.fhir.QueryParam;
import org.junit.jupiter.api.Test;

class PageTargetsTest {

  @Test
  void aProjectionRidesInsideThePageTargetAndIsSplitOffBeforeTheEpr() {
    Projection p = Projection.of(List.of(new QueryParam("_elements", "id,code"), new QueryParam("_summary", "data")));
    String target = "?_getpages=abc&_getpagesoffset=20&_count=20" + PageTargets.query(p);
    PageTargets.Split split = PageTargets.split(target);
    assertThat(split.target()).isEqualTo("?_getpages=abc&_getpagesoffset=20&_count=20");
    assertThat(split.projection()).isEqualTo(p);
  }

  @Test
  void aTargetWithoutProjectionIsLeftAlone() {
    PageTargets.Split split = PageTargets.split("?_getpages=abc&_summary=count");
    assertThat(split.target()).isEqualTo("?_getpages=abc&_summary=count");
    assertThat(split.projection()).isNull();
  }
}
