package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import ca.uhn.fhir.util.UrlUtil;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

class DemoStoreTest {

  private static final Instant T0 = Instant.parse("2025-06-01T08:00:00Z");

  /** A clock the test moves; it may move backwards. */
  private static final class TestClock extends Clock {
    private volatile Instant now = T0;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static List<String> ids(List<StoredVersion> versions) {
    return versions.stream().map(StoredVersion::id).toList();
  }

  private static List<String> search(DemoStore store, String type, String query) {
    RawSearch search = RawSearch.parse(FhirContext.forR4Cached(), type, UrlUtil.parseQueryString(query));
    return ids(store.search(type, search.params()));
  }

  private static DemoStore threePatients(Clock clock) {
    DemoStore store = DemoStore.empty(clock);
    store.update("Patient", "a", patient("Müller", "Ève", "1980-02-29", "female"), null);
    store.update("Patient", "b", patient("Muller", "Adam", "1980-12-31", "male"), null);
    store.update("Patient", "c", patient("Mullins", "Eva", "1991-07-14", "female"), null);
    return store;
  }

  private static Patient patient(String family, String given, String birthDate, String gender) {
    Patient patient = new Patient().addName(new HumanName().setFamily(family).addGiven(given));
    patient.getBirthDateElement().setValueAsString(birthDate);
    patient.setGender(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.fromCode(gender));
    patient.addIdentifier().setSystem("urn:mrn").setValue("MRN-" + family);
    return patient;
  }

  @Test
  void stringSearchIsPrefixCaseAndAccentInsensitiveExactAndContainsAreNot() {
    DemoStore store = threePatients(Clock.systemUTC());

    assertThat(search(store, "Patient", "name=MUL")).containsExactly("a", "b", "c");
    assertThat(search(store, "Patient", "family=muller")).containsExactly("a", "b");
    assertThat(search(store, "Patient", "family:exact=Müller")).containsExactly("a");
    assertThat(search(store, "Patient", "family:exact=muller")).isEmpty();
    assertThat(search(store, "Patient", "name:contains=lin")).containsExactly("c");
    assertThat(search(store, "Patient", "given=eve,adam")).containsExactly("a", "b");
    assertThat(search(store, "Patient", "name=mul&given=ev")).containsExactly("a", "c");
  }

  @Test
  void tokenDateAndIdSearchesFollowFhirForms() {
    DemoStore store = threePatients(Clock.systemUTC());

    assertThat(search(store, "Patient", "identifier=urn:mrn|MRN-Mullins")).containsExactly("c");
    assertThat(search(store, "Patient", "identifier=MRN-Muller")).containsExactly("b");
    assertThat(search(store, "Patient", "identifier=urn:mrn|")).containsExactly("a", "b", "c");
    assertThat(search(store, "Patient", "identifier=other|MRN-Muller")).isEmpty();
    assertThat(search(store, "Patient", "gender=female")).containsExactly("a", "c");
    assertThat(search(store, "Patient", "birthdate=1980")).containsExactly("a", "b");
    assertThat(search(store, "Patient", "birthdate=1980-02")).containsExactly("a");
    assertThat(search(store, "Patient", "birthdate=gt1980")).containsExactly("c");
    assertThat(search(store, "Patient", "birthdate=lt1980-12-31")).containsExactly("a");
    assertThat(search(store, "Patient", "birthdate=ge1980-12-31&birthdate=le1991-07-14")).containsExactly("b", "c");
    assertThat(search(store, "Patient", "birthdate=ne1980")).containsExactly("c");
    assertThat(search(store, "Patient", "_id=c,a,zz")).containsExactly("a", "c");
  }

  @Test
  void unsupportedModifiersAndParametersAreRefused() {
    DemoStore store = threePatients(Clock.systemUTC());

    assertThatThrownBy(() -> search(store, "Patient", "gender:not=male")).isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(":not");
    assertThatThrownBy(() -> search(store, "Patient", "name:missing=true")).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> search(store, "Patient", "shoe-size=44")).isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("shoe-size");
    assertThatThrownBy(() -> search(store, "Observation", "subject.organization.name=x"))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> store.checkIncludes("Patient", Set.of(new Include("Patient:gender")), Set.of()))
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void referencesChainsIncludesAndRevincludesUseTheIndexes() {
    DemoStore store = threePatients(Clock.systemUTC());
    store.update("Observation", "o1", observation("Patient/a"), null);
    store.update("Observation", "o2", observation("Patient/c"), null);
    store.update("Observation", "o3", observation("Patient/a"), null);

    assertThat(search(store, "Observation", "subject=Patient/a")).containsExactly("o1", "o3");
    assertThat(search(store, "Observation", "patient=c")).containsExactly("o2");
    assertThat(search(store, "Observation", "subject:Patient.name=mullins")).containsExactly("o2");
    assertThat(search(store, "Observation", "subject.gender=female")).containsExactly("o1", "o2", "o3");
    assertThat(search(store, "Observation", "subject._id=c")).containsExactly("o2");

    List<StoredVersion> page = store.search("Observation", java.util.Map.of());
    assertThat(ids(store.included(page, Set.of(new Include("Observation:subject")), Set.of())))
        .containsExactly("a", "c");
    List<StoredVersion> patients = store.search("Patient", java.util.Map.of());
    assertThat(ids(store.included(patients, Set.of(), Set.of(new Include("Observation:subject")))))
        .containsExactly("o1", "o3", "o2");
    assertThat(ids(store.everything("a"))).containsExactly("a", "o1", "o3");
  }

  @Test
  void versionsHistoryAndDeletionAreKept() {
    TestClock clock = new TestClock();
    DemoStore store = threePatients(clock);
    clock.now = T0.plusSeconds(60);
    store.update("Patient", "a", patient("Moreau", "Ève", "1980-02-29", "female"), 1L);
    clock.now = T0.minusSeconds(3600);
    store.delete("Patient", "a", null);

    assertThat(store.vread("Patient", "a", 1).resource()).isInstanceOfSatisfying(Patient.class,
        p -> assertThat(p.getNameFirstRep().getFamily()).isEqualTo("Müller"));
    assertThat(store.vread("Patient", "a", 2).lastUpdated()).isEqualTo(T0.plusSeconds(60));
    assertThat(store.vread("Patient", "a", 2).resource().getMeta().getVersionId()).isEqualTo("2");
    assertThatThrownBy(() -> store.vread("Patient", "a", 3)).isInstanceOf(ResourceGoneException.class);
    assertThatThrownBy(() -> store.read("Patient", "a")).isInstanceOf(ResourceGoneException.class);
    assertThatThrownBy(() -> store.read("Patient", "zz")).isInstanceOf(ResourceNotFoundException.class);
    assertThat(store.delete("Patient", "a", null)).isNull();
    assertThat(search(store, "Patient", "name=mo")).isEmpty();
    assertThat(store.count("Patient")).isEqualTo(2);

    HistorySnapshot history = store.history("Patient", "a", null);
    List<StoredVersion> newestFirst = store.historyPage(history, 0, 10);
    assertThat(newestFirst).extracting(StoredVersion::version).containsExactly(3L, 2L, 1L);
    assertThat(newestFirst.get(0).lastUpdated()).as("time never goes backwards").isEqualTo(T0.plusSeconds(60));
    assertThat(newestFirst.get(0).copyForHistory().getIdElement().getValue()).isEqualTo("Patient/a/_history/3");

    HistorySnapshot since = store.history(null, null, T0.plusSeconds(30));
    assertThat(since.size()).isEqualTo(2);
    store.update("Patient", "a", patient("Revenu", "Ève", "1980-02-29", "female"), null);
    assertThat(store.historyPage(since, 0, 10)).as("a snapshot does not move").hasSize(2);
    assertThat(store.read("Patient", "a").version()).isEqualTo(4);
  }

  @Test
  void ifMatchMustNameTheCurrentVersion() {
    DemoStore store = threePatients(Clock.systemUTC());

    assertThatThrownBy(() -> store.update("Patient", "b", patient("X", "Y", "2000-01-01", "male"), 7L))
        .isInstanceOf(ResourceVersionConflictException.class).hasMessageContaining("If-Match version 7");
    assertThatThrownBy(() -> store.update("Patient", "b", new Observation(), null))
        .isInstanceOf(InvalidRequestException.class);
    assertThat(store.read("Patient", "b").version()).isEqualTo(1);
  }

  @Test
  void aFailedAtomicChangeLeavesNoTrace() {
    DemoStore store = threePatients(Clock.systemUTC());
    int historyBefore = store.history(null, null, null).size();

    assertThatThrownBy(() -> store.atomically(() -> {
      store.create(patient("Nouveau", "Né", "2025-01-01", "male"));
      store.update("Patient", "b", patient("Changé", "Adam", "1980-12-31", "male"), null);
      store.delete("Patient", "c", null);
      return store.update("Patient", "a", patient("X", "Y", "2000-01-01", "male"), 9L);
    })).isInstanceOf(ResourceVersionConflictException.class);

    assertThat(store.count("Patient")).isEqualTo(3);
    assertThat(search(store, "Patient", "name=mul")).containsExactly("a", "b", "c");
    assertThat(search(store, "Patient", "name=nouveau")).isEmpty();
    assertThat(search(store, "Patient", "name=change")).isEmpty();
    assertThat(store.read("Patient", "b").version()).isEqualTo(1);
    assertThat(store.read("Patient", "c").version()).isEqualTo(1);
    assertThat(store.history(null, null, null).size()).isEqualTo(historyBefore);
  }

  @Test
  void readsRunWhileWritesHappen() throws Exception {
    DemoStore store = DemoStore.withSyntheticData(5, 300, Clock.systemUTC());
    ExecutorService pool = Executors.newFixedThreadPool(3);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(pool.submit(() -> {
          start.await();
          int seen = 0;
          for (int i = 0; i < 200; i++) {
            seen += search(store, "Patient", "gender=female,male,other,unknown").size() > 0 ? 1 : 0;
            seen += store.everything("p" + (1 + i % 300)).isEmpty() ? 0 : 1;
          }
          return seen;
        }));
      }
      Future<?> writer = pool.submit(() -> {
        start.await();
        for (int i = 0; i < 200; i++) {
          store.update("Patient", "p" + (1 + i % 300), patient("Écrit", "W", "1970-01-01", "male"), null);
        }
        return null;
      });
      start.countDown();
      writer.get(30, TimeUnit.SECONDS);
      for (Future<Integer> reader : readers) {
        assertThat(reader.get(30, TimeUnit.SECONDS)).isEqualTo(400);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(search(store, "Patient", "family=ecrit")).hasSize(200);
    assertThat(store.count("Patient")).isEqualTo(300);
  }

  @Test
  void copiesLeaveTheStoredResourceAlone() {
    DemoStore store = threePatients(Clock.systemUTC());

    Resource copy = store.get("Patient", "a").orElseThrow();
    ((Patient) copy).getNameFirstRep().setFamily("Changed");

    assertThat(((Patient) store.get("Patient", "a").orElseThrow()).getNameFirstRep().getFamily()).isEqualTo("Müller");
    assertThat(store.get("Patient", "zz")).isEmpty();
    assertThat(store.get("Nonsense", "a")).isEmpty();
    assertThat(store.resourceTypes()).contains("Patient", "Binary", "Group");
  }

  @Test
  void entrySetsStayInCreationOrder() {
    EntrySet set = new EntrySet();
    StoredEntry[] entries = new StoredEntry[6];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = new StoredEntry("Patient", "x" + i, i + 1);
    }
    set.add(entries[4]);
    set.add(entries[1]);
    set.add(entries[5]);
    set.add(entries[0]);
    set.add(entries[1]);
    set.add(entries[3]);
    set.remove(entries[5]);
    set.remove(entries[2]);

    assertThat(set.toList()).containsExactly(entries[0], entries[1], entries[3], entries[4]);
    assertThat(set.size()).isEqualTo(4);
  }

  private static Observation observation(String subject) {
    Observation observation = new Observation().setSubject(new Reference(subject));
    observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8867-4");
    return observation;
  }
}
