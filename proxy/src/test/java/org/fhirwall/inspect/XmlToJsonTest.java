package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.IParserErrorHandler.IParseLocation;
import ca.uhn.fhir.parser.StrictErrorHandler;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.fhirwall.fhir.PatientCompartment;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * {@link XmlToJson} writes the JSON HAPI FHIR writes for the same resource: for every resource of
 * {@link XmlCorpus}, HAPI's XML as converted here is, as a JSON tree, HAPI's JSON of HAPI's parse
 * of that XML; HAPI's strict JSON parser reads it to a resource equal to HAPI's XML parse; and the
 * inspector finds the same patients, resource types, count and URLs in the XML as in HAPI's JSON.
 * Then every way FHIR XML can be wrong is refused.
 */
class XmlToJsonTest {
  /** Decimals as they are written (1.50 is not 1.5). */
  static final ObjectMapper MAPPER = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
  static final InspectorSettings SETTINGS = new InspectorSettings(List.of(BASE + "/"), 10_000_000, 100);

  final XmlToJson converter = new XmlToJson(new ElementShapes(R4, R4.getResourceTypes()), 100, 10_000_000);
  final ResponseInspector inspector = new ResponseInspector(R4, PatientCompartment.from(R4), SETTINGS);

  @Test
  void everyCorpusResourceConvertsToHapisJson() throws Exception {
    List<String> differing = new ArrayList<>();
    int compared = 0;
    for (Resource resource : XmlCorpus.resources()) {
      String xml = R4.newXmlParser().encodeResourceToString(resource);
      IBaseResource fromXml = R4.newXmlParser().parseResource(xml);
      String hapiJson = R4.newJsonParser().encodeResourceToString(fromXml);
      byte[] ours = converter.convert(xml.getBytes(UTF_8));

      IBaseResource strict = strictJson().parseResource(new String(ours, UTF_8));
      assertThat(((Base) strict).equalsDeep((Base) fromXml)).as("HAPI reads our JSON of %s as its XML", xml).isTrue();
      if (!tree(ours).equals(tree(hapiJson.getBytes(UTF_8)))) {
        differing.add("ours: " + new String(ours, UTF_8) + "\nHAPI's: " + hapiJson);
      }
      assertSameInspection(xml, hapiJson);
      compared++;
    }
    assertThat(compared).isGreaterThan(25);
    assertThat(differing).as("resources whose JSON differs from HAPI's").isEmpty();
  }

  @Test
  void decimalsKeepTheirTextAndIntegersTheirValue() throws Exception {
    String xml = """
        <Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="k"/></code>
          <valueQuantity><value value="1.500"/></valueQuantity>
          <component><code><text value="a"/></code><valueInteger value="+007"/></component>
          <component><code><text value="b"/></code><valueQuantity><value value="-0.5E-3"/></valueQuantity></component>
        </Observation>""";
    String json = new String(converter.convert(xml.getBytes(UTF_8)), UTF_8);
    assertThat(json).contains("\"value\":1.500").contains("\"valueInteger\":7").contains("\"value\":-0.5E-3");
    JsonNode node = MAPPER.readTree(json);
    assertThat(node.at("/valueQuantity/value").decimalValue()).isEqualTo(new BigDecimal("1.500"));
  }

  @Test
  void primitivesWithOnlyExtensionsAndRepeatingPrimitivesAlign() throws Exception {
    String xml = """
        <Patient xmlns="http://hl7.org/fhir">
          <name><given><extension url="u"><valueString value="x"/></extension></given>
            <given id="g2"/><family value="F"/></name>
          <name><given value="A"/><given value="B"><extension url="v"><valueBoolean value="true"/></extension></given><given value="C"/></name>
          <gender id="gender-id" value="female"/>
          <birthDate><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason"><valueCode value="unknown"/></extension></birthDate>
        </Patient>""";
    JsonNode node = MAPPER.readTree(converter.convert(xml.getBytes(UTF_8)));
    assertThat(node.at("/name/0").has("given")).isFalse();
    assertThat(node.at("/name/0/_given").toString()).isEqualTo("[{\"extension\":[{\"url\":\"u\",\"valueString\":\"x\"}]},{\"id\":\"g2\"}]");
    assertThat(node.at("/name/1/given").toString()).isEqualTo("[\"A\",\"B\",\"C\"]");
    assertThat(node.at("/name/1/_given").toString()).isEqualTo("[null,{\"extension\":[{\"url\":\"v\",\"valueBoolean\":true}]},null]");
    assertThat(node.at("/gender").asText()).isEqualTo("female");
    assertThat(node.at("/_gender").toString()).isEqualTo("{\"id\":\"gender-id\"}"); // HAPI's encoder drops this id
    assertThat(node.has("birthDate")).isFalse();
    assertThat(node.at("/_birthDate/extension/0/valueCode").asText()).isEqualTo("unknown");
  }

  @Test
  void commentsWhitespaceAndForeignAttributesAreIgnored() throws Exception {
    String xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- a comment -->
        <Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            xsi:schemaLocation="http://hl7.org/fhir patient.xsd">
          <!-- another --><id value="1"/>
          <?pi here?>
          <active value="true"/>
        </Patient>
        """;
    assertThat(tree(converter.convert(xml.getBytes(UTF_8))))
        .isEqualTo(MAPPER.readTree("{\"resourceType\":\"Patient\",\"id\":\"1\",\"active\":true}"));
  }

  @Test
  void theNarrativeIsItsXhtml() throws Exception {
    String xml = """
        <Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml" \
        lang="fr">a &amp; &lt;b&gt; &#169; <b title='x&quot;y'>b</b><br></br><![CDATA[<c>]]><p/></div></text></Patient>""";
    JsonNode node = MAPPER.readTree(converter.convert(xml.getBytes(UTF_8)));
    assertThat(node.at("/text/div").asText()).isEqualTo("<div xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"fr\">a &amp; "
        + "&lt;b&gt; \u00a9 <b title=\"x&quot;y\">b</b><br/>&lt;c&gt;<p/></div>");
  }

  @Test
  void corruptedCopiesAreRefusedOrConvertedToValidJson() {
    Random random = new Random(7);
    byte[] replacements = "<>/=\"' &;:#a0x-\u00e9".getBytes(UTF_8);
    byte[] extra = {(byte) 0x80, (byte) 0xC3, 0x01, (byte) 0xFF};
    int refused = 0;
    int read = 0;
    for (Resource resource : List.of(XmlCorpus.richPatient(), XmlCorpus.parameters(), XmlCorpus.transactionResponse(),
        XmlCorpus.medicationRequestWithTiming(), XmlCorpus.benchLikeSearchset(5))) {
      byte[] body = Fixtures.xml(resource).getBytes(UTF_8);
      List<byte[]> copies = new ArrayList<>();
      for (int cut = 0; cut < body.length; cut += 1 + body.length / 200) {
        copies.add(Arrays.copyOf(body, cut));
      }
      for (int i = 0; i < 600; i++) {
        byte[] copy = body.clone();
        int pick = random.nextInt(replacements.length + extra.length);
        copy[random.nextInt(copy.length)] = pick < replacements.length ? replacements[pick] : extra[pick - replacements.length];
        copies.add(copy);
      }
      for (byte[] copy : copies) {
        try {
          JsonNode json = tree(converter.convert(copy)); // throws unless it is well-formed JSON
          assertThat(json.path("resourceType").isTextual()).isTrue();
          read++;
        } catch (UnreadableException e) {
          refused++;
        }
      }
    }
    assertThat(refused).isGreaterThan(1000);
    assertThat(read).isGreaterThan(100);
  }

  // ---- refusals

  @Test
  void aDoctypeOrEntityIsRefusedUpFront() {
    assertRefused("<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&x;\"/></Patient>", "DOCTYPE");
    assertRefused("<!doctype Patient><Patient xmlns=\"http://hl7.org/fhir\"/>", "DOCTYPE");
    assertRefused("<Patient xmlns=\"http://hl7.org/fhir\"><!ENTITY x \"y\"><id value=\"1\"/></Patient>", "DOCTYPE");
    assertRefused("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&x;\"/></Patient>", "malformed");
  }

  @Test
  void nestingDeeperThanTheLimitIsRefused() {
    // Basic, the extensions and their innermost value: 100 elements deep with 98 extensions.
    assertThat(new String(convertOrFail(nestedExtensions(98)), UTF_8)).startsWith("{\"resourceType\":\"Basic\"");
    assertRefused(nestedExtensions(99), "deeper than 100");
    String deepDiv = "<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\">"
        + "<b>".repeat(200) + "</b>".repeat(200) + "</div></text></Patient>";
    assertRefused(deepDiv, "deeper than 100");
  }

  @Test
  void whatIsNotFhirXmlIsRefused() {
    assertRefused("<html><body>x</body></html>", "not a FHIR resource");
    assertRefused("<Patient><id value=\"1\"/></Patient>", "not a FHIR resource");
    assertRefused("<Patient xmlns=\"http://hl7.org/fhir/other\"/>", "not a FHIR resource");
    assertRefused("<NotAType xmlns=\"http://hl7.org/fhir\"/>", "not a FHIR resource");
    assertRefused("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/>", "malformed");
    assertRefused("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/></Patient><Patient/>", "malformed");
    assertRefused("not xml", "malformed");
    assertThatThrownBy(() -> converter.convert(new byte[0])).isInstanceOf(UnreadableException.class);
  }

  @Test
  void elementsAttributesAndTextTheDefinitionsDoNotHaveAreRefused() {
    String p = "<Patient xmlns=\"http://hl7.org/fhir\">%s</Patient>";
    assertRefused(p.formatted("<secret value=\"x\"/>"), "unknown element");
    assertRefused(p.formatted("<name><nickname value=\"x\"/></name>"), "unknown element");
    assertRefused(p.formatted("<active xmlns=\"urn:other\" value=\"true\"/>"), "unknown element");
    assertRefused(p.formatted("<generalPracticionerResource/>"), "unknown element");
    assertRefused(p.formatted("<managingOrganizationResource><reference value=\"x\"/></managingOrganizationResource>"),
        "unknown element");
    assertRefused(p.formatted("<name><id value=\"n\"/></name>"), "unknown element");
    assertRefused(p.formatted("<extension><url value=\"u\"/></extension>"), "unknown element");
    assertRefused(p.formatted("<active value=\"true\"><family value=\"x\"/></active>"), "unknown element");
    assertRefused(p.formatted("<text><status value=\"generated\"/><div><p>x</p></div></text>"), "unknown element");
    assertRefused(p.formatted("<text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\">"
        + "<svg xmlns=\"http://www.w3.org/2000/svg\"/></div></text>"), "non-XHTML");
    assertRefused(p.formatted("<name secret=\"x\"><family value=\"F\"/></name>"), "attribute");
    assertRefused(p.formatted("<active value=\"true\" other=\"x\"/>"), "attribute");
    assertRefused(p.formatted("<id value=\"1\"/>text"), "text");
    assertRefused(p.formatted("<name>Martin<family value=\"F\"/></name>"), "text");
    assertRefused(p.formatted("<active value=\"true\">yes</active>"), "text");
  }

  @Test
  void repeatsTheDefinitionsDoNotAllowAreRefused() {
    String p = "<Patient xmlns=\"http://hl7.org/fhir\">%s</Patient>";
    assertRefused(p.formatted("<active value=\"true\"/><active value=\"false\"/>"), "repeats");
    assertRefused(p.formatted("<deceasedBoolean value=\"true\"/><deceasedDateTime value=\"2020\"/>"), "repeats");
    assertRefused(p.formatted("<name><given value=\"a\"/><family value=\"F\"/><given value=\"b\"/></name>"), "repeats apart");
    assertRefused(p.formatted("<contained><Patient xmlns=\"http://hl7.org/fhir\"/><Patient xmlns=\"http://hl7.org/fhir\"/>"
        + "</contained>"), "more than one resource");
    assertRefused(p.formatted("<contained> </contained>"), "without a resource");
    assertRefused(p.formatted("<contained><name/></contained>"), "not a FHIR resource");
  }

  @Test
  void valuesThatAreNotOfTheirTypeAreRefused() {
    String p = "<Patient xmlns=\"http://hl7.org/fhir\">%s</Patient>";
    assertRefused(p.formatted("<active value=\"yes\"/>"), "boolean");
    assertRefused(p.formatted("<multipleBirthInteger value=\"1,&quot;x&quot;:2\"/>"), "integer");
    assertRefused(p.formatted("<multipleBirthInteger value=\"99999999999\"/>"), "integer");
    assertRefused(p.formatted("<extension url=\"u\"><valueDecimal value=\"1.5}\"/></extension>"), "decimal");
    assertRefused(p.formatted("<extension url=\"u\"><valueDecimal value=\"01.5\"/></extension>"), "decimal");
    assertRefused(p.formatted("<extension url=\"u\"><valueDecimal value=\".5\"/></extension>"), "decimal");
    assertRefused(p.formatted("<active/>"), "without a value");
  }

  @Test
  void jsonLongerThanTheLimitIsRefused() throws Exception {
    XmlToJson small = new XmlToJson(new ElementShapes(R4, R4.getResourceTypes()), 100, 64);
    String fits = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"123456789012345678901234567890\"/></Patient>";
    assertThat(small.convert(fits.getBytes(UTF_8))).hasSize(64);
    assertThatThrownBy(() -> small.convert(fits.replace("1234567890\"", "12345678901\"").getBytes(UTF_8)))
        .isInstanceOf(UnreadableException.class).hasMessageContaining("more than 64 bytes");
  }

  // ---- helpers

  static String nestedExtensions(int n) {
    return "<Basic xmlns=\"http://hl7.org/fhir\"><code><text value=\"x\"/></code>" + "<extension url=\"u\">".repeat(n)
        + "<valueString value=\"v\"/>" + "</extension>".repeat(n) + "</Basic>";
  }

  void assertRefused(String xml, String reason) {
    assertThatThrownBy(() -> converter.convert(xml.getBytes(UTF_8))).as("refusal of %s", xml)
        .isInstanceOf(UnreadableException.class).hasMessageContaining(reason);
    assertThat(inspector.inspect(new ResponseBody(xml.getBytes(UTF_8), "application/fhir+xml", null)))
        .as("inspection of %s", xml).isInstanceOf(Inspection.Unreadable.class);
  }

  byte[] convertOrFail(String xml) {
    try {
      return converter.convert(xml.getBytes(UTF_8));
    } catch (UnreadableException e) {
      throw new AssertionError(e.reason(), e);
    }
  }

  void assertSameInspection(String xml, String hapiJson) {
    Inspection fromJson = inspector.inspect(new ResponseBody(hapiJson.getBytes(UTF_8), "application/fhir+json", null));
    Inspection fromXml = inspector.inspect(new ResponseBody(xml.getBytes(UTF_8), "application/fhir+xml", null));
    assertThat(fromJson).as("JSON inspection of %s", hapiJson).isInstanceOf(Inspection.Read.class);
    assertThat(fromXml).as("XML inspection of %s", xml).isInstanceOf(Inspection.Read.class);
    Inspection.Read j = (Inspection.Read) fromJson;
    Inspection.Read x = (Inspection.Read) fromXml;
    assertThat(x.patients()).as("patients of %s", xml).isEqualTo(j.patients());
    assertThat(x.resourceTypes()).as("types of %s", xml).isEqualTo(j.resourceTypes());
    assertThat(x.resourceCount()).as("count of %s", xml).isEqualTo(j.resourceCount());
    assertThat(x.rootType()).isEqualTo(j.rootType());
    assertThat(urlValues(x)).as("URLs of %s", xml).containsExactlyInAnyOrderElementsOf(urlValues(j));
    for (UrlOccurrence u : x.urls()) {
      assertThat(tree(java.util.Arrays.copyOfRange(x.json(), u.start(), u.end())).asText()).isEqualTo(u.value());
    }
  }

  static List<String> urlValues(Inspection.Read read) {
    return read.urls().stream().map(u -> u.value() + " " + u.linkRelation()).toList();
  }

  /** HAPI's JSON parser, failing on anything it would otherwise pass over (a dangling #ref is the corpus's own). */
  static IParser strictJson() {
    return R4.newJsonParser().setParserErrorHandler(new StrictErrorHandler() {
      @Override
      public void unknownReference(IParseLocation location, String reference) {
        // the corpus refers to contained resources that are not there on purpose
      }
    });
  }

  static JsonNode tree(byte[] json) {
    try {
      return MAPPER.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
