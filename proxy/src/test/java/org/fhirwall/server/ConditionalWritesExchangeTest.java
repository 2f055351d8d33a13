package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.json;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.Test;

/**
 * A conditional write is a search the EPR runs for whoever may write: its answer tells whether its criteria matched
 * none, one or several records. Adversarial sweep 5, against HAPI FHIR 8.8's JPA server: a conditional create, update
 * or patch whose criteria match two records is answered 412 ("this search matched 2 resources"), charging nobody; a
 * conditional delete answers "Successfully deleted 1 resource(s)", "Unable to find resource matching URL" or 412, and
 * deletes what it matched; and none of the criteria were held to the role's search rules (chains, parameters,
 * selectivity). Through the real pipeline on an {@link EmbeddedChannel} with a fake EPR answering as HAPI FHIR did.
 */
class ConditionalWritesExchangeTest extends ExchangeFixture {
  static final Instant NOW = ExchangeRig.NOW;
  static final String EPR = ExchangeRig.EPR;
  static final String OBS = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
      + "\"subject\":{\"reference\":\"Patient/p9\"}}";
  static final String SEVERAL = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
      + "\"processing\",\"diagnostics\":\"HAPI-0958: Failed to CREATE Observation with match URL \\\"Observation?"
      + "identifier=lab%7C7\\\" because this search matched 2 resources\"}]}";

  {
    epr = r -> ConditionalWritesExchangeTest.created();
  }

  // --- clinical use stays open -----------------------------------------------------------------------

  /** A clinician's conditional create keyed by an identifier names no patient in its criteria, and still works. */
  @Test
  void aConditionalCreateKeyedByAnIdentifierIsForwarded() {
    FullHttpResponse r = send(write("POST", "Observation", OBS, "If-None-Exist: identifier=lab|7"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(reachedEpr).hasSize(1);
    assertThat(audit.get(0).patients()).containsExactly("Patient/p9");
  }

  // --- several matches: 412 --------------------------------------------------------------------------

  /** Each 412 of a conditional create, update or patch counts like a 404 in the id-walk watch. */
  @Test
  void aConditionalWriteThatMatchedSeveralRecordsCountsAsANotFoundAnswer() {
    epr = r -> json(412, SEVERAL);
    assertThat(send(write("POST", "Observation", OBS, "If-None-Exist: identifier=lab|7")).status().code()).isEqualTo(412);
    assertThat(send(write("PUT", "Observation?identifier=lab|8&subject=Patient/p9", OBS)).status().code()).isEqualTo(412);
    assertThat(send(write("PATCH", "Observation?identifier=lab|9&subject=Patient/p9",
        "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"final\"}]", "X-Content: patch")).status().code())
        .isEqualTo(412);
    assertThat(alerts).as("over enumeration.max-not-found (2): the account is locked").hasSize(1);
    assertThat(alerts.get(0).event()).isEqualTo("account-locked");
    FullHttpResponse locked = send(write("POST", "Observation", OBS, "If-None-Exist: identifier=lab|10"));
    assertThat(locked.status().code()).as(body(locked)).isNotEqualTo(201).isNotEqualTo(412);
    assertThat(reachedEpr).as("a locked account reaches the EPR no more").hasSize(3);
  }

  /**
   * A conditional reference in a body ({@code Patient?identifier=...}) is resolved by the EPR when it writes: one match
   * is written and charged (the record comes back), several are a 412 like a conditional create's, none a 404
   * ("HAPI-1091: Invalid match URL ... - No resources match this search").
   */
  @Test
  void aWriteWhoseConditionalReferenceMatchedSeveralPatientsOrNoneCountsAsANotFoundAnswer() {
    epr = r -> json(412, SEVERAL.replace("CREATE Observation", "resolve conditional reference"));
    String obs = OBS.replace("Patient/p9", "Patient?identifier=mrn|135");
    for (int i = 0; i < 2; i++) {
      assertThat(send(write("POST", "Observation", obs)).status().code()).isEqualTo(412);
    }
    epr = r -> json(404, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
        + "\"processing\",\"diagnostics\":\"HAPI-1091: Invalid match URL - No resources match this search\"}]}");
    assertThat(send(write("POST", "Observation", obs)).status().code()).isEqualTo(404);
    assertThat(alerts).as("over enumeration.max-not-found (2): the account is locked").hasSize(1);
  }

  @Test
  void aBatchEntryThatMatchedSeveralRecordsCountsAsANotFoundAnswer() {
    epr = r -> json(200, "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":["
        + "{\"response\":{\"status\":\"412 Precondition Failed\",\"outcome\":" + SEVERAL + "}},"
        + "{\"response\":{\"status\":\"412 Precondition Failed\",\"outcome\":" + SEVERAL + "}},"
        + "{\"response\":{\"status\":\"412 Precondition Failed\",\"outcome\":" + SEVERAL + "}}]}");
    String entry = "{\"resource\":" + OBS + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\","
        + "\"ifNoneExist\":\"identifier=lab|7\"}}";
    FullHttpResponse r = send(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + entry + "," + entry + "," + entry + "]}"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(alerts).as("three 412 entries are over enumeration.max-not-found (2)").hasSize(1);
  }

  /** A transaction fails whole: HAPI FHIR answers one 412 for an entry whose criteria matched several records. */
  @Test
  void aTransactionThatFailedOnSeveralMatchesCountsAsANotFoundAnswer() {
    epr = r -> json(412, SEVERAL);
    String entry = "{\"resource\":" + OBS + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\","
        + "\"ifNoneExist\":\"identifier=lab|7\"}}";
    for (int i = 0; i < 3; i++) {
      FullHttpResponse r = send(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          + entry + "]}"));
      assertThat(r.status().code()).as(body(r)).isEqualTo(412);
    }
    assertThat(alerts).as("three 412 transactions are over enumeration.max-not-found (2)").hasSize(1);
  }

  // --- the criteria are a search ----------------------------------------------------------------------

  @Test
  void theCriteriaOfAConditionalWriteAreHeldToTheRolesSearchRules() {
    refused(write("POST", "Observation", OBS, "If-None-Exist: subject.name=smith&code=hiv"), "search-chains");
    refused(write("PUT", "Observation?subject.identifier=mrn|135&code=hiv", OBS), "search-chains");
    refused(write("POST", "Observation", OBS, "If-None-Exist: _has:Condition:subject:code=hiv"), "search-has");
    refused(write("POST", "Observation", OBS, "If-None-Exist: value-string:contains=pos"), "search-modifiers");
    refused(write("POST", "Patient", "{\"resourceType\":\"Patient\"}", "If-None-Exist: gender=female"),
        "search-unselective");
    refused(write("PUT", "Patient?name=a", "{\"resourceType\":\"Patient\"}"), "search-unselective");
    refused(write("PUT", "Observation?code=a,b,c,d,e,f,g,h,i,j,k", OBS), "search-or-values");
    assertThat(reachedEpr).isEmpty();
  }

  // --- conditional references in a body are searches too (adversarial sweep 6) -----------------------

  /**
   * HAPI FHIR resolves every reference with a query in a written resource by searching ({@code Patient?...}), wherever it
   * stands: before sweep 6 its criteria reached the EPR unchecked (chains into another patient's records, {@code _has},
   * modifiers, OR-lists, criteria matching nearly everyone, types the role may not read), and the answer (the one match
   * written in, 412 for several, 404 for none) told about the records they matched.
   */
  @Test
  void theConditionalReferencesOfAWriteAreHeldToTheRolesSearchRules() {
    refused(write("POST", "Observation", obs("Patient?organization.name=stmary&name=smith")), "search-chains");
    refused(write("POST", "Observation", obs("Patient?_has:Condition:subject:code=hiv")), "search-has");
    refused(write("PUT", "Observation/o8", obs("Patient?name:contains=smi").replace("{", "{\"id\":\"o8\",")),
        "search-modifiers");
    refused(write("POST", "Observation", obs("Patient?gender=female")), "search-unselective");
    refused(write("POST", "Observation", obs("Patient?identifier=a,b,c,d,e,f,g,h,i,j,k")), "search-or-values");
    refused(write("POST", "Observation", obs("Organization?name=stmary")), "resource-types");
    // wherever it stands: nested, contained, in an extension, absolute on any base, Patient/?...
    refused(write("POST", "Observation", OBS.replace("\"code\":{\"text\":\"x\"}", "\"code\":{\"text\":\"x\"},"
        + "\"performer\":[{\"reference\":\"Practitioner?address.city=paris\"}]")), "search-chains");
    refused(write("POST", "Observation", OBS.replace("{\"resourceType\":\"Observation\",", "{\"resourceType\":"
        + "\"Observation\",\"contained\":[{\"resourceType\":\"Provenance\",\"id\":\"p\",\"target\":[{\"reference\":"
        + "\"Patient?link.name=smith\"}]}],")), "search-chains");
    refused(write("POST", "Observation", OBS.replace("{\"resourceType\":\"Observation\",", "{\"resourceType\":"
        + "\"Observation\",\"extension\":[{\"url\":\"urn:x\",\"valueReference\":{\"reference\":"
        + "\"Patient?gender=male\"}}],")), "search-unselective");
    refused(write("POST", "Observation", obs("https://epr.example/fhir/Patient?general-practitioner.name=house")),
        "search-chains");
    refused(write("POST", "Observation", obs("Patient/?_has:Observation:patient:code=hiv")), "search-has");
    // in a patch, a transaction and a batch
    refused(write("PATCH", "Observation/o8", "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":"
        + "\"Patient?organization.name=stmary\"}]", "X-Content: patch"), "search-chains");
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + obs("Patient?birthdate=ge1900") + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}"),
        "search-unselective");
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + obs("Patient?_has:Condition:subject:code=hiv") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/o8\"}}]}"),
        "search-has");
    assertThat(reachedEpr).as("the EPR never hears of them").isEmpty();
  }

  /** A conditional reference held to the search rules still works as HAPI FHIR's users use it: by identifier, by demographics. */
  @Test
  void aConditionalReferenceByIdentifierOrDemographicsIsForwarded() {
    FullHttpResponse r = send(write("POST", "Observation", obs("Patient?identifier=http://x|123")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    r = send(write("POST", "Observation", obs("Patient?name=smith&birthdate=1970-01-01")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    r = send(write("POST", "Observation", obs("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(reachedEpr).hasSize(3);
  }

  /** The odd-modifier check covers every link of a conditional reference, and of a {@code _has} chain (sweep 6). */
  @Test
  void oddModifiersInAConditionalReferenceOrAReverseChainAreRefusedAsMalformed() {
    malformed(write("POST", "Observation", obs("Patient?name:Contains=smi")));
    malformed(write("POST", "Observation", obs("Patient?_has:Observation:patient:code:Exact=hiv")));
    malformed(write("POST", "Observation", OBS, "If-None-Exist: _has:Condition:subject:code:Text=hiv"));
    malformed(write("PUT", "Observation?_has:Provenance:target:agent:Practitioner.name:EXACT=house", OBS));
    malformed("GET /fhir/Patient?_has:Observation:patient:code:Exact=hiv HTTP/1.1\r\nHost: proxy\r\n"
        + "Authorization: Bearer good\r\n\r\n");
    malformed(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":"
        + "\"GET\",\"url\":\"Patient?_has:Observation:patient:code:Exact=hiv\"}}]}"));
    assertThat(reachedEpr).isEmpty();
  }

  /**
   * Adversarial sweep 9, against HAPI FHIR 8.8's JPA server: a conditional reference to a type that holds patients'
   * records is resolved like one to Patient, but the answer shows only the id it resolved to ({@code Observation/o23}),
   * never whose record that is. {@code "hasMember": [{"reference": "Observation?_id=o23&code=http://loinc.org|8310-5"}]}
   * was written (201) when o23 is that test and refused (404, "No resources match this search") when it is not, with
   * nobody charged: the conditional update's oracle of sweep 8, in a body. It must name the patient of every record it
   * can match now, like a conditional update, and that patient is charged; one to Patient (its answer shows whom it
   * matched) or to a type that holds no patient's records still works.
   */
  @Test
  void aConditionalReferenceToAPatientsRecordMustNameThePatient() {
    String probe = "Observation?_id=o23&code=http://loinc.org%7C8310-5";
    refused(write("POST", "Observation", member(probe)), "conditional-reference");
    refused(write("PUT", "Observation/o8", member("Observation?identifier=lab%7C7").replace("{", "{\"id\":\"o8\",")),
        "conditional-reference");
    refused(write("PATCH", "Observation?_id=o8&subject=Patient/p9", "[{\"op\":\"add\",\"path\":\"/hasMember\",\"value\":"
        + "[{\"reference\":\"" + probe + "\"}]}]", "X-Content: patch"), "conditional-reference");
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + member(probe) + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}"), "conditional-reference");
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + member(probe) + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}"), "conditional-reference");
    assertThat(reachedEpr).as("the EPR never resolves them").isEmpty();

    FullHttpResponse r = send(write("POST", "Observation", member(probe + "&subject=Patient/p8")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(audit.get(audit.size() - 1).patients()).as("the patient it names is charged")
        .contains("Patient/p8", "Patient/p9");
    r = send(write("POST", "Observation", OBS.replace("\"code\":{\"text\":\"x\"}", "\"code\":{\"text\":\"x\"},"
        + "\"performer\":[{\"reference\":\"Practitioner?identifier=staff%7C7\"}]")));
    assertThat(r.status().code()).as("a type that holds no patient's records: " + body(r)).isEqualTo(201);
    assertThat(reachedEpr).hasSize(2);
  }

  /**
   * Adversarial sweep 9: the criteria of a conditional write or reference need not be listed in
   * {@code search.parameters}, so {@code _filter}, {@code _query}, {@code _list}, {@code _text} and {@code _content}
   * passed there, though the built-in lists never allow them in a search: on an EPR that runs {@code _filter} (HAPI
   * FHIR's {@code filter_search_enabled}) its expression says what the role's rules refuse as parameters
   * ({@code name co "smi"} is {@code name:contains=smi}). They must be listed there now, in criteria too.
   */
  @Test
  void aParameterThatEscapesTheSearchRulesMustBeListedInTheCriteriaOfAWriteToo() {
    refused(write("POST", "Observation", obs("Patient?identifier=mrn%7C7&_filter=name%20co%20smi")), "search-parameters");
    refused(write("POST", "Patient", "{\"resourceType\":\"Patient\"}",
        "If-None-Exist: identifier=mrn%7C7&_filter=name%20co%20smi"), "search-parameters");
    refused(write("PUT", "Patient?identifier=mrn%7C7&_query=anything", "{\"resourceType\":\"Patient\"}"),
        "search-parameters");
    refused(delete("Observation?subject=Patient/p9&_filter=code%20eq%20hiv"), "search-parameters");
    refused(write("POST", "Observation", obs("Patient?identifier=mrn%7C7&_list=l1")), "search-parameters");
    refused(write("POST", "Observation", obs("Patient?identifier=mrn%7C7&_content=smith")), "search-parameters");
    assertThat(reachedEpr).isEmpty();
  }

  /**
   * Adversarial sweep 9, against HAPI FHIR 8.8's JPA server: the conditional references of a written resource are
   * resolved in turn, and the first that matches nothing is named ("HAPI-1091: Invalid match URL \"Practitioner?
   * identifier=...\" - No resources match this search"). A probe ({@code Patient?identifier=<MRN>&birthdate=<guess>})
   * before a reference that matches nothing told, by which URL the 404 named, whether the probe matched: a birth date,
   * nobody charged. The EPR's words of a refused write that carries conditional references are not passed on now;
   * fhirwall answers with its own, by status alone.
   */
  @Test
  void whichConditionalReferenceMatchedNothingIsNotTold() {
    String probe = "Patient?identifier=mrn%7C135&birthdate=1965-09-05";
    String body = OBS.replace("Patient/p9", probe).replace("\"code\":{\"text\":\"x\"}", "\"code\":{\"text\":\"x\"},"
        + "\"performer\":[{\"reference\":\"Practitioner?identifier=staff%7Cnone\"}]");
    epr = r -> json(400, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
        + "\"processing\",\"diagnostics\":\"HAPI-0450: Failed to parse request body as JSON resource\"}]}");
    FullHttpResponse plain = send(write("PUT", "Observation/o8", OBS.replace("{", "{\"id\":\"o8\",")));
    assertThat(body(plain)).as("a write without conditional references keeps the EPR's words").contains("HAPI-0450");
    List<String> answers = new java.util.ArrayList<>();
    for (String named : List.of("Practitioner?identifier=staff|none", "Patient?identifier=mrn|135&birthdate=1965-09-05")) {
      epr = r -> json(404, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
          + "\"processing\",\"diagnostics\":\"HAPI-1091: Invalid match URL \\\"" + named + "\\\" - No resources match "
          + "this search\"}]}");
      FullHttpResponse r = send(write("POST", "Observation", body));
      assertThat(r.status().code()).as(body(r)).isEqualTo(404);
      assertThat(body(r)).contains("OperationOutcome").doesNotContain("identifier").doesNotContain("1965");
      answers.add(body(r));
    }
    assertThat(answers.get(0)).isEqualTo(answers.get(1));
    epr = r -> json(412, SEVERAL.replace("CREATE Observation", "resolve conditional reference"));
    String transaction = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + body
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
    FullHttpResponse r = send(write("POST", "", transaction));
    assertThat(r.status().code()).as(body(r)).isEqualTo(412);
    assertThat(body(r)).contains("OperationOutcome").doesNotContain("identifier");
  }

  /** Inside a batch, each entry answers for itself: the words of a refused one are fhirwall's too. */
  @Test
  void whichConditionalReferenceOfABatchEntryMatchedNothingIsNotTold() {
    String body = OBS.replace("Patient/p9", "Patient?identifier=mrn%7C135&birthdate=1965-09-05").replace(
        "\"code\":{\"text\":\"x\"}", "\"code\":{\"text\":\"x\"},\"performer\":[{\"reference\":\"Practitioner?"
        + "identifier=staff%7Cnone\"}]");
    epr = r2 -> json(200, "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[{\"response\":"
        + "{\"status\":\"404 Not Found\",\"outcome\":{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
        + "\"error\",\"code\":\"processing\",\"diagnostics\":\"HAPI-1091: Invalid match URL \\\"Patient?identifier=mrn|135"
        + "&birthdate=1965-09-05\\\" - No resources match this search\"}]}}}]}");
    FullHttpResponse r = send(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{"
        + "\"resource\":" + body + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(body(r)).contains("404 Not Found").contains("not-found").doesNotContain("identifier");
  }

  /** An Observation of patient p9 whose {@code hasMember} is {@code reference}. */
  private static String member(String reference) {
    return OBS.replace("\"code\":{\"text\":\"x\"}", "\"code\":{\"text\":\"x\"},\"hasMember\":[{\"reference\":\""
        + reference + "\"}]");
  }

  // --- conditional delete -----------------------------------------------------------------------------

  /**
   * A conditional delete's answer carries no record: it tells only whether its criteria matched (and then the record
   * is gone). It is forwarded when every record it can match belongs to patients it names, who are charged, or when
   * its type holds no patient's records; otherwise refused.
   */
  @Test
  void aConditionalDeleteMustNameThePatientsOfWhatItCanMatch() {
    refused(delete("Observation?identifier=lab|7"), "conditional-delete");
    refused(delete("Patient?identifier=mrn|135"), "conditional-delete");
    assertThat(reachedEpr).isEmpty();
    epr = r -> json(200, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","
        + "\"code\":\"informational\",\"diagnostics\":\"Successfully deleted 1 resource(s).\"}]}");
    FullHttpResponse r = send(delete("Observation?subject=Patient/p9&identifier=lab|7"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(audit.get(audit.size() - 1).patients()).containsExactly("Patient/p9");
    r = send(delete("Practitioner?identifier=staff|7"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr).hasSize(2);
  }

  /**
   * Adversarial sweep 8, against HAPI FHIR 8.8's JPA server: a conditional update answers with what it wrote, and 200
   * (a record matched and was replaced) rather than 400 ("did not satisfy the conditional URL") told that
   * {@code Observation?_id=o23&code=...} matched, whosever o23 was. It must name its patient now (not Patient's own:
   * its answer shows the patient it matched).
   */
  @Test
  void aConditionalUpdateOfAPatientsRecordsMustNameThePatient() {
    refused(write("PUT", "Observation?_id=o23&code=http://loinc.org|8310-5", OBS), "conditional-update");
    refused(write("PUT", "Observation?identifier=lab|8", OBS), "conditional-update");
    assertThat(reachedEpr).isEmpty();
    epr = r -> CountOraclesExchangeTest.located(200, EPR + "/Observation/o8/_history/2",
        "{\"resourceType\":\"Observation\",\"id\":\"o8\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}");
    FullHttpResponse r = send(write("PUT", "Observation?identifier=lab|8&subject=Patient/p9", OBS.replace(
        ",\"subject\":{\"reference\":\"Patient/p9\"}", "")));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(audit.get(audit.size() - 1).patients()).as("the named patient").containsExactly("Patient/p9");
    epr = r2 -> CountOraclesExchangeTest.located(200, EPR + "/Patient/p7/_history/2",
        "{\"resourceType\":\"Patient\",\"id\":\"p7\",\"active\":true}");
    r = send(write("PUT", "Patient?identifier=mrn|7", "{\"resourceType\":\"Patient\",\"active\":true}"));
    assertThat(r.status().code()).as("keyed by an MRN: the answer shows whom it matched").isEqualTo(200);
    assertThat(audit.get(audit.size() - 1).patients()).containsExactly("Patient/p7");
    assertThat(reachedEpr).hasSize(2);
  }

  // --- patch ----------------------------------------------------------------------------------------

  /**
   * Adversarial sweep 8, against HAPI FHIR 8.8's JPA server: a JSON Patch is applied to what the record held, and a
   * {@code test} that fails is refused in other words than the operation after a {@code test} that passed ("value
   * differs from expectations", "no such path in target JSON document"): {@code PATCH Patient?identifier=<MRN>} with
   * {@code [test /birthDate 1965-09-05, remove /nothing]} told a birth date, {@code PATCH Observation/o394} with
   * {@code [test /subject/reference Patient/p135, ...]} whose record it is, and nobody was charged. A patch of a type
   * that holds patients' records must now name the patient of every record it can change.
   */
  @Test
  void aPatchMustNameThePatientOfEveryRecordItCanChange() {
    String probe = "[{\"op\":\"test\",\"path\":\"/subject/reference\",\"value\":\"Patient/p9\"},"
        + "{\"op\":\"remove\",\"path\":\"/nothing\"}]";
    refused(write("PATCH", "Observation/o8", probe, "X-Content: patch"), "patch-unpinned");
    malformed(write("PATCH", "Observation/o8?subject=Patient/p9", probe, "X-Content: patch")); // selects nothing
    refused(write("PATCH", "Observation?identifier=lab|7", probe, "X-Content: patch"), "patch-unpinned");
    refused(write("PATCH", "Patient?identifier=mrn|135", probe.replace("/subject/reference", "/birthDate"),
        "X-Content: patch"), "patch-unpinned");
    refused(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Binary\",\"contentType\":\"application/json-patch+json\",\"data\":\""
        + java.util.Base64.getEncoder().encodeToString(probe.getBytes(StandardCharsets.UTF_8)) + "\"},\"request\":"
        + "{\"method\":\"PATCH\",\"url\":\"Observation/o8\"}}]}"), "patch-unpinned");
    assertThat(reachedEpr).isEmpty();

    epr = r -> json(400, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
        + "\"processing\",\"diagnostics\":\"HAPI-1272: value differs from expectations\"}]}");
    for (String named : List.of("Patient/p9", "Patient?_id=p9", "Observation?_id=o8&subject=Patient/p9")) {
      FullHttpResponse r = send(write("PATCH", named, probe, "X-Content: patch"));
      assertThat(r.status().code()).as(named + ": " + body(r)).isEqualTo(400);
      assertThat(audit.get(audit.size() - 1).patients()).as(named).containsExactly("Patient/p9");
    }
    epr = r -> json(200, "{\"resourceType\":\"Practitioner\",\"id\":\"pr1\"}");
    assertThat(send(write("PATCH", "Practitioner/pr1", probe, "X-Content: patch")).status().code())
        .as("a type that holds no patient's records is patched as it is").isEqualTo(200);
    assertThat(reachedEpr).hasSize(4);
  }

  // --- the rig ---------------------------------------------------------------------------------------

  private static String obs(String subject) {
    return OBS.replace("Patient/p9", subject);
  }

  static UpstreamResult created() {
    return CountOraclesExchangeTest.located(201, EPR + "/Observation/o8/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o8\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p9\"}}");
  }

  /** A FHIR JSON write; a first header {@code X-Content: patch} makes it a JSON Patch instead (and is not sent). */
  private static String write(String method, String path, String body, String... headers) {
    boolean patch = headers.length > 0 && headers[0].equals("X-Content: patch");
    String[] sent = java.util.Arrays.stream(headers).filter(h -> !h.startsWith("X-Content")).toArray(String[]::new);
    return Wire.write(method, path, patch ? Wire.JSON_PATCH : Wire.JSON, body, sent);
  }

  private static String delete(String path) {
    return Wire.delete(path);
  }

  @Override
  String role() {
    return WARD_WRITER + "enumeration: {max-not-found: 2, window: 10m, action: lock, lock-for: 1h}\n";
  }
}
