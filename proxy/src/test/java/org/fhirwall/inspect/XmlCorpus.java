package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.fhirwall.inspect.Fixtures.BASE;
import static org.fhirwall.inspect.Fixtures.R4;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PositiveIntType;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SampledData;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Timing;
import org.hl7.fhir.r4.model.UnsignedIntType;

/**
 * Resources for the XML tests: every fixture the inspector tests use, the JSON corpus of
 * {@link HapiModelEquivalenceTest} as far as HAPI FHIR models it, Bundles like the benchmark's, and
 * resources that use what FHIR XML and JSON write differently (extensions on primitives, repeating
 * primitives with extensions, element ids, contained resources, narratives, decimals, nested
 * resources in Bundles and Parameters).
 */
final class XmlCorpus {
  private XmlCorpus() {}

  static List<Resource> resources() {
    List<Resource> all = new ArrayList<>();
    all.add(Fixtures.patient("42"));
    all.add(Fixtures.practitioner("pr1"));
    all.add(Fixtures.organization("chu"));
    all.add(Fixtures.observation("o1", "1"));
    all.add(Fixtures.encounter("e1", "1"));
    all.add(Fixtures.medicationRequest("m1", "1"));
    all.add(Fixtures.condition("c1", "1"));
    for (String body : HapiModelEquivalenceTest.corpus()) {
      try {
        all.add((Resource) R4.newJsonParser().parseResource(body));
      } catch (RuntimeException e) {
        // not a resource HAPI models: the JSON tests cover it
      }
    }
    all.add(benchLikeSearchset(50));
    all.add(benchLikeSearchset(400));
    all.add(richPatient());
    all.add(richObservation());
    all.add(parameters());
    all.add(transactionResponse());
    all.add(questionnaire());
    all.add(medicationRequestWithTiming());
    all.add(documentReference());
    all.add(new Binary().setContentType("application/pdf").setData("%PDF-1.4".getBytes(UTF_8)).setId("bin"));
    return all;
  }

  /** A searchset like the benchmark's: a Patient every fifth entry, the other entries referring to their patient. */
  static Bundle benchLikeSearchset(int entries) {
    List<Resource> matches = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      String p = "p" + i;
      matches.add(switch (i % 5) {
        case 0 -> Fixtures.patient(p);
        case 1 -> Fixtures.observation("o" + i, p);
        case 2 -> Fixtures.encounter("e" + i, p);
        case 3 -> Fixtures.medicationRequest("m" + i, p);
        default -> Fixtures.condition("c" + i, p);
      });
    }
    return Fixtures.searchset(matches, List.of());
  }

  static Patient richPatient() {
    Patient p = Fixtures.patient("rich");
    p.getMeta().setLastUpdated(new java.util.Date(1_700_000_000_000L)).addProfile("http://example.org/p1").addProfile("http://example.org/p2")
        .addTag(new Coding("http://example.org/tags", "t", "T"));
    p.getText().setStatus(Narrative.NarrativeStatus.GENERATED).setDivAsString(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p class=\"x\">Claire &amp; \"Martin\" &lt;3 é 𝄞</p>"
            + "<table border=\"1\"><tr><td>1</td><td/></tr></table><br/><a href=\"" + BASE + "/Patient/rich\">self</a></div>");
    HumanName name = p.addName().setFamily("Durand \"the\" \\ one\ttab").addPrefix("Mme");
    name.setId("n1");
    name.addGiven("Anne");
    name.addGivenElement().addExtension("http://example.org/given-kind", new CodeType("initial"));
    name.addGiven("Claire").addExtension(new Extension("http://example.org/pron", new StringType("klɛʁ")));
    name.getGiven().get(2).setId("g3");
    p.getBirthDateElement().setValueAsString("1961-04-03");
    p.getBirthDateElement().addExtension("http://hl7.org/fhir/StructureDefinition/patient-birthTime",
        new DateTimeType("1961-04-03T10:15:00+02:00"));
    p.setMultipleBirth(new IntegerType(2));
    p.setDeceased(new BooleanType(false));
    Extension complex = new Extension("http://example.org/complex");
    complex.addExtension(new Extension("weight", new DecimalType(new BigDecimal("72.50"))));
    complex.addExtension(new Extension("count", new UnsignedIntType(0)));
    complex.addExtension(new Extension("rank", new PositiveIntType(3)));
    complex.addExtension(new Extension("ref", new Reference("Patient/other")));
    complex.setId("ext-1");
    p.addExtension(complex);
    p.addModifierExtension(new Extension("http://example.org/mod", new BooleanType(true)));
    Patient.ContactComponent contact = p.addContact().setName(new HumanName().setFamily("Contact"));
    contact.addModifierExtension(new Extension("http://example.org/contact-mod", new StringType("m")));
    contact.addRelationship().setText("mother");
    p.addPhoto(new Attachment().setContentType("image/png").setData(new byte[] {1, 2, 3, 4, 5}).setSize(5));
    p.addCommunication().setLanguage(new CodeableConcept(new Coding("urn:ietf:bcp:47", "fr", "French"))).setPreferred(true);
    p.addContained(Fixtures.practitioner("gp-c"));
    p.addContained(Fixtures.observation("obs-c", "rich"));
    p.addGeneralPractitioner(new Reference("#gp-c"));
    p.addLink().setOther(new Reference("Patient/linked")).setType(Patient.LinkType.SEEALSO);
    return p;
  }

  static Observation richObservation() {
    Observation o = Fixtures.observation("rich-o", "1");
    o.setValue(new Quantity().setValue(new BigDecimal("1.50")).setUnit("mmol/L"));
    o.addComponent().setCode(new CodeableConcept().setText("count")).setValue(new IntegerType(-3));
    o.addComponent().setCode(new CodeableConcept().setText("flag")).setValue(new BooleanType(true));
    o.addComponent().setCode(new CodeableConcept().setText("tiny")).setValue(new Quantity().setValue(new BigDecimal("1E-7")));
    o.addComponent().setCode(new CodeableConcept().setText("wave")).setValue(new SampledData()
        .setOrigin(new Quantity().setValue(new BigDecimal("0.0"))).setPeriod(new BigDecimal("10.000")).setDimensions(2)
        .setData("1 2 3 E"));
    o.addReferenceRange().setLow(new Quantity().setValue(new BigDecimal("3.0"))).setHigh(new Quantity().setValue(6));
    o.addNote(new Annotation().setText("line 1\nline 2 <b>not markup</b> & more").setAuthor(new Reference("Practitioner/pr1")));
    o.addInterpretation().addCoding().setCode("H").addExtension("http://example.org/x", new IntegerType(1));
    o.setEffective(new DateTimeType("2024-11-20T08:30:00Z"));
    return o;
  }

  static Parameters parameters() {
    Parameters parameters = new Parameters();
    parameters.addParameter().setName("patient").setResource(Fixtures.patient("par"));
    parameters.addParameter().setName("count").setValue(new IntegerType(12));
    parameters.addParameter().setName("ratio").setValue(new DecimalType(new BigDecimal("0.3333")));
    parameters.addParameter().setName("ok").setValue(new BooleanType(false));
    parameters.addParameter().setName("ref").setValue(new Reference("Patient/pv"));
    Parameters.ParametersParameterComponent nested = parameters.addParameter().setName("nested");
    nested.addPart().setName("bundle").setResource(Fixtures.searchset(List.of(Fixtures.observation("po", "pp")), List.of()));
    nested.addPart().setName("size").setValue(new UnsignedIntType(7));
    nested.addPart().setName("deeper").addPart().setName("leaf").setValue(new StringType("x"));
    return parameters;
  }

  static Bundle transactionResponse() {
    Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
    b.addEntry().getResponse().setStatus("201 Created").setLocation("Patient/55/_history/1").setEtag("W/\"1\"");
    OperationOutcome outcome = new OperationOutcome();
    outcome.addIssue().setSeverity(OperationOutcome.IssueSeverity.WARNING).setCode(OperationOutcome.IssueType.INFORMATIONAL)
        .setDiagnostics("Patient/56 was merged");
    b.addEntry().setResource(Fixtures.patient("56")).getResponse().setStatus("200 OK").setOutcome(outcome);
    b.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/57");
    b.getEntry().get(2).getResponse().setStatus("200");
    return b;
  }

  static Questionnaire questionnaire() {
    Questionnaire q = new Questionnaire().setStatus(org.hl7.fhir.r4.model.Enumerations.PublicationStatus.ACTIVE);
    Questionnaire.QuestionnaireItemComponent group = q.addItem().setLinkId("g").setType(Questionnaire.QuestionnaireItemType.GROUP);
    Questionnaire.QuestionnaireItemComponent weight = group.addItem().setLinkId("w").setType(Questionnaire.QuestionnaireItemType.DECIMAL);
    weight.addInitial().setValue(new DecimalType(new BigDecimal("70.0")));
    weight.addEnableWhen().setQuestion("g").setOperator(Questionnaire.QuestionnaireItemOperator.EXISTS).setAnswer(new BooleanType(true));
    group.addItem().setLinkId("n").setType(Questionnaire.QuestionnaireItemType.INTEGER).setMaxLength(3).setRepeats(true);
    return q;
  }

  static MedicationRequest medicationRequestWithTiming() {
    MedicationRequest m = Fixtures.medicationRequest("timed", "t1");
    Timing.TimingRepeatComponent repeat = new Timing.TimingRepeatComponent().setFrequency(2).setPeriod(new BigDecimal("1.0"))
        .setPeriodUnit(Timing.UnitsOfTime.D);
    repeat.addDayOfWeek(Timing.DayOfWeek.MON).addDayOfWeek(Timing.DayOfWeek.THU);
    repeat.addTimeOfDay("08:00:00").addTimeOfDay("20:00:00");
    repeat.getTimeOfDay().get(1).addExtension("http://example.org/approx", new BooleanType(true));
    m.addDosageInstruction(new Dosage().setSequence(1).setTiming(new Timing().setRepeat(repeat))
        .addDoseAndRate(new Dosage.DosageDoseAndRateComponent().setDose(new Quantity().setValue(new BigDecimal("0.5")))));
    return m;
  }

  static DocumentReference documentReference() {
    DocumentReference d = new DocumentReference();
    d.setId("doc");
    d.setSubject(new Reference("Patient/d1"));
    d.addContent().getAttachment().setContentType("application/fhir+json")
        .setData(Fixtures.json(Fixtures.patient("d2")).getBytes(UTF_8));
    d.addContent().getAttachment().setContentType("application/fhir+xml")
        .setData(Fixtures.xml(Fixtures.patient("d3")).getBytes(UTF_8));
    return d;
  }
}
