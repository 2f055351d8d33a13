package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.ErrorHandlerAdapter;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.IParserErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import ca.uhn.fhir.util.FhirTerser;
import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * What a JSON (or NDJSON) body discloses, by HAPI FHIR's R4 model: the oracle the inspector is
 * checked against ({@link HapiModelEquivalenceTest}). Written apart from the inspector, on other
 * foundations, from the contract its javadoc states ({@link ResponseInspector}, {@link JsonWalk},
 * {@link PatientKeys}).
 *
 * <p>Two parts:
 *
 * <ul>
 *   <li><b>Syntax and refusals</b>, with Jackson's strict streaming parser (the parser the
 *       inspector was first written on, so "refused as before"): well-formed JSON within the
 *       limits, one object at the top (any number in NDJSON), nesting, a known string
 *       {@code resourceType}, no two different ones in an object, a {@code reference} that is a
 *       string or null, inline FHIR content that can be read. This part also finds the URL-bearing
 *       strings (their byte offsets are syntax) and reads inline content ({@code data} in base64 is
 *       outside HAPI's model).
 *   <li><b>Patients</b>, from HAPI FHIR's model: the body parsed with HAPI's JSON parser; every
 *       Patient resource; every {@link Reference} anywhere that names a patient; Bundle entry full
 *       URLs, response locations and request URLs that name one; and the Patient-compartment owner
 *       references of each resource ({@link FhirTerser#getCompartmentReferencesForResource}), plus
 *       every Reference typed {@code Patient}, that resolve to nothing in the body.
 * </ul>
 *
 * <p>Rules where the inspector goes beyond HAPI's model by design (stated, not derived):
 *
 * <ul>
 *   <li>the type of a reference is matched without regard to case ({@code patient/34} names
 *       {@code Patient/34}); a {@code Patient} segment followed by a query, a {@code $}operation,
 *       {@code _search} or an id that is not a FHIR id names a patient that cannot be resolved;
 *   <li>a contained Patient, or one without an id, is a patient of its own (unidentified);
 *   <li>a resource in a Bundle entry keeps its own id (HAPI would take the entry's full URL);
 *   <li>where HAPI's lenient parse drops part of a body (an unknown element, a value of the wrong
 *       JSON type, a contained resource without id, ...), the inspector still reads that part, so
 *       it must name <i>at least</i> the patients HAPI's model names; equality is asked only of
 *       bodies HAPI models without loss.
 * </ul>
 */
final class HapiModelOracle {
  /** What the oracle expects of a body. */
  record Expectation(boolean readable, boolean modelled, Set<String> identified, Set<String> unidentified,
      Set<String> unresolved, Set<String> types, int resourceCount, List<UrlOccurrence> urls) {

    static Expectation unreadable() {
      return new Expectation(false, true, Set.of(), Set.of(), Set.of(), Set.of(), 0, List.of());
    }
  }

  private static final int MAX_INLINE_NESTING = 3;

  private final FhirContext context;
  private final FhirTerser terser;
  private final InspectorSettings settings;
  private final JsonFactory factory;

  HapiModelOracle(FhirContext context, InspectorSettings settings) {
    this.context = context;
    this.terser = context.newTerser();
    this.settings = settings;
    this.factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(settings.maxDepth() + 1)
            .maxDocumentLength(settings.maxDecodedBytes())
            .maxStringLength((int) settings.maxDecodedBytes())
            .build())
        .build();
  }

  Expectation expect(byte[] body, boolean ndjson) {
    return expect(body, ndjson, 0);
  }

  private Expectation expect(byte[] body, boolean ndjson, int nesting) {
    int first = firstNonBlank(body);
    if (first < 0) {
      return new Expectation(true, true, Set.of(), Set.of(), Set.of(), Set.of(), 0, List.of());
    }
    if (body.length >= 2 && (body[0] == 0 || body[1] == 0 || (body[0] & 0xFF) == 0xFE || (body[0] & 0xFF) == 0xFF)) {
      return Expectation.unreadable();
    }
    Syntax syntax = new Syntax(body, nesting);
    try {
      if (!syntax.read(ndjson)) {
        return Expectation.unreadable();
      }
    } catch (IOException | RuntimeException e) {
      return Expectation.unreadable();
    }
    Model model = new Model();
    boolean modelled = model.read(body, ndjson, syntax);
    model.types.addAll(syntax.inlineTypes);
    model.count += syntax.inlineCount;
    model.identified.addAll(syntax.inlineIdentified);
    model.unidentified.addAll(syntax.inlineUnidentified);
    model.unresolved.addAll(syntax.inlineUnresolved);
    syntax.urls.sort(Comparator.comparingInt(UrlOccurrence::start));
    return new Expectation(true, modelled && syntax.inlineModelled, model.identified, model.unidentified,
        model.unresolved, model.types, model.count, syntax.urls);
  }

  // ---- syntax (Jackson)

  /** One pass of Jackson's parser: refusals, URL occurrences, inline content. */
  private final class Syntax {
    final byte[] json;
    final int nesting;
    final List<UrlOccurrence> urls = new ArrayList<>();
    final Set<String> inlineTypes = new HashSet<>();
    final Set<String> inlineIdentified = new HashSet<>();
    final Set<String> inlineUnidentified = new HashSet<>();
    final Set<String> inlineUnresolved = new HashSet<>();
    /** Patient ids of resource objects beyond the first {@code id} member (HAPI keeps one). */
    final Set<String> extraPatientIds = new HashSet<>();
    int inlineCount;
    boolean inlineModelled = true;
    /** The {@code reference} string of the object read last, if it had one. */
    @Nullable String lastReference;
    JsonParser p;

    Syntax(byte[] json, int nesting) {
      this.json = json;
      this.nesting = nesting;
    }

    boolean read(boolean ndjson) throws IOException {
      try (JsonParser parser = factory.createParser(json)) {
        p = parser;
        int roots = 0;
        JsonToken t;
        while ((t = p.nextToken()) != null) {
          if (t != JsonToken.START_OBJECT || (++roots > 1 && !ndjson)) {
            return false;
          }
          if (!object(1, Role.NONE, true)) {
            return false;
          }
        }
      }
      return true;
    }

    enum Role { NONE, LINK_ITEM, ENTRY_ITEM, ENTRY_RESPONSE, CONTAINED_ITEM }

    /** Reads an object whose START_OBJECT is the current token; false when the body must be refused. */
    boolean object(int level, Role role, boolean root) throws IOException {
      if (level > settings.maxDepth()) {
        return false;
      }
      int start = (int) p.currentTokenLocation().getByteOffset();
      String resourceType = null;
      List<String> ids = new ArrayList<>();
      String contentType = null;
      String data = null;
      String linkUrl = null;
      int linkStart = 0;
      int linkEnd = 0;
      String relation = null;
      boolean securityContextPatient = false;
      String reference = null;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_OBJECT) {
        String name = p.currentName();
        t = p.nextToken();
        switch (t) {
          case START_OBJECT -> {
            Role child = role == Role.ENTRY_ITEM && name.equals("response") ? Role.ENTRY_RESPONSE : Role.NONE;
            if (!object(level + 1, child, false)) {
              return false;
            }
            if (name.equals("securityContext")) {
              securityContextPatient = lastReference != null
                  && References.classify(lastReference, context).kind() == References.Kind.PATIENT;
            }
          }
          case START_ARRAY -> {
            if (!array(level + 1, name)) {
              return false;
            }
          }
          case VALUE_STRING -> {
            int s = (int) p.currentTokenLocation().getByteOffset();
            String value = p.getText();
            switch (name) {
              case "resourceType" -> {
                if (!context.getResourceTypes().contains(value) || (resourceType != null && !resourceType.equals(value))) {
                  return false;
                }
                resourceType = value;
              }
              case "id" -> ids.add(value);
              case "reference" -> reference = value;
              case "contentType" -> contentType = value;
              case "data" -> {
                data = value;
                continue; // never a URL
              }
              case "relation" -> {
                if (role == Role.LINK_ITEM) {
                  relation = value;
                }
              }
              case "url" -> {
                if (role == Role.LINK_ITEM) {
                  linkUrl = value;
                  linkStart = s;
                  linkEnd = stringEnd(s);
                  continue;
                }
              }
              default -> { }
            }
            if ((name.equals("fullUrl") && role == Role.ENTRY_ITEM) || (name.equals("location") && role == Role.ENTRY_RESPONSE)) {
              urls.add(new UrlOccurrence(s, stringEnd(s), value, null));
            } else {
              base(s, value);
            }
          }
          default -> {
            if (name.equals("resourceType") || (name.equals("reference") && t != JsonToken.VALUE_NULL)) {
              return false;
            }
          }
        }
      }
      int end = (int) p.currentTokenLocation().getByteOffset() + 1;
      lastReference = reference;
      if (root && resourceType == null) {
        return false;
      }
      if (role == Role.LINK_ITEM && linkUrl != null && (relation != null || startsWithBase(linkUrl))) {
        urls.add(new UrlOccurrence(linkStart, linkEnd, linkUrl, relation));
      }
      if ("Patient".equals(resourceType) && role != Role.CONTAINED_ITEM) {
        for (int i = 1; i < ids.size(); i++) {
          extraPatientIds.add(ids.get(i));
        }
      }
      if (data != null) {
        return inline(data, contentType, "Binary".equals(resourceType), securityContextPatient,
            ids.isEmpty() ? null : ids.get(0), start, end);
      }
      return true;
    }

    boolean array(int level, String name) throws IOException {
      if (level > settings.maxDepth()) {
        return false;
      }
      Role items = switch (name == null ? "" : name) {
        case "link" -> Role.LINK_ITEM;
        case "entry" -> Role.ENTRY_ITEM;
        case "contained" -> Role.CONTAINED_ITEM;
        default -> Role.NONE;
      };
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        switch (t) {
          case START_OBJECT -> {
            if (!object(level + 1, items, false)) {
              return false;
            }
          }
          case START_ARRAY -> {
            if (!array(level + 1, null)) {
              return false;
            }
          }
          case VALUE_STRING -> base((int) p.currentTokenLocation().getByteOffset(), p.getText());
          default -> { }
        }
      }
      return true;
    }

    /** Binary or Attachment {@code data}: FHIR, JSON or XML content is read in turn; anything else is opaque. */
    boolean inline(String data, @Nullable String contentType, boolean binary, boolean securityContextPatient,
        @Nullable String id, int start, int end) {
      String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
      boolean fhir = type.contains("fhir");
      if (fhir || type.contains("json") || type.contains("xml")) {
        if (nesting >= MAX_INLINE_NESTING) {
          return false;
        }
        byte[] content;
        try {
          content = Base64Variants.getDefaultVariant().decode(data);
        } catch (IllegalArgumentException e) {
          return false;
        }
        Expectation inner = inner(content, type);
        if (inner.readable()) {
          inlineTypes.addAll(inner.types());
          inlineCount += inner.resourceCount();
          inlineIdentified.addAll(inner.identified());
          inlineUnidentified.addAll(inner.unidentified());
          inlineUnresolved.addAll(inner.unresolved());
          inlineModelled &= inner.modelled();
          return true;
        }
        if (fhir) {
          return false;
        }
      }
      if (binary && !securityContextPatient) {
        // An opaque Binary: one patient, the same one each read.
        inlineUnresolved.add(id != null ? "Binary/" + id : "Binary@" + new String(json, start, end - start, UTF_8));
      }
      return true;
    }

    Expectation inner(byte[] content, String type) {
      String mime = type.contains(";") ? type.substring(0, type.indexOf(';')).trim() : type.trim();
      if (firstNonBlank(content) < 0) {
        return new Expectation(true, true, Set.of(), Set.of(), Set.of(), Set.of(), 0, List.of());
      }
      if (mime.endsWith("ndjson")) {
        return expect(content, true, nesting + 1);
      }
      if (mime.contains("json")) {
        return expect(content, false, nesting + 1);
      }
      // XML: HAPI's parser, then the JSON it encodes (what the inspector does).
      try {
        IBaseResource r = context.newXmlParser().parseResource(new String(content, UTF_8));
        return expect(context.newJsonParser().encodeResourceToString(r).getBytes(UTF_8), false, nesting + 1);
      } catch (RuntimeException e) {
        return Expectation.unreadable();
      }
    }

    void base(int start, String value) {
      if (startsWithBase(value)) {
        urls.add(new UrlOccurrence(start, stringEnd(start), value, null));
      }
    }

    boolean startsWithBase(String value) {
      for (String base : settings.upstreamBases()) {
        if (value.startsWith(base) && (value.length() == base.length() || "/?#".indexOf(value.charAt(base.length())) >= 0)) {
          return true;
        }
      }
      return false;
    }

    int stringEnd(int start) {
      int i = start + 1;
      while (json[i] != '"') {
        i += json[i] == '\\' ? 2 : 1;
      }
      return i + 1;
    }
  }

  // ---- patients (HAPI FHIR's model)

  /** The patients of the body from HAPI's model of it. */
  private final class Model {
    final Set<String> identified = new HashSet<>();
    final Set<String> unidentified = new HashSet<>();
    final Set<String> unresolved = new HashSet<>();
    final Set<String> types = new HashSet<>();
    int count;
    /** Full URLs of the Bundle entries that hold a resource, anywhere in the body. */
    final Set<String> entryUrls = new HashSet<>();
    /** Owner references that are {@code urn:}s, resolved once all entries are known. */
    final List<String> urns = new ArrayList<>();
    boolean lossless = true;

    /** Reads the body with HAPI; false when HAPI's model of it is not the whole body. */
    boolean read(byte[] body, boolean ndjson, Syntax syntax) {
      List<String> documents = new ArrayList<>();
      String text = new String(body, UTF_8);
      if (ndjson) {
        for (String line : text.split("\n")) {
          if (!line.isBlank()) {
            documents.add(line);
          }
        }
      } else {
        documents.add(text);
      }
      for (String document : documents) {
        IBaseResource resource;
        try {
          IParser parser = context.newJsonParser().setParserErrorHandler(lossDetector());
          parser.setOverrideResourceIdWithBundleEntryFullUrl(false);
          resource = parser.parseResource(document);
        } catch (RuntimeException e) {
          return false;
        }
        resource((Resource) resource, null);
      }
      for (String urn : urns) {
        if (!entryUrls.contains(urn)) {
          unresolved.add("reference " + urn);
        }
      }
      for (String id : syntax.extraPatientIds) {
        identified.add(PatientKeys.patient(id));
      }
      return lossless;
    }

    private IParserErrorHandler lossDetector() {
      return new ErrorHandlerAdapter() {
        @Override
        public void unknownElement(IParseLocation location, String name) {
          lossless = false;
        }

        @Override
        public void unknownAttribute(IParseLocation location, String name) {
          lossless = false;
        }

        @Override
        public void unexpectedRepeatingElement(IParseLocation location, String name) {
          lossless = false;
        }

        @Override
        public void incorrectJsonType(IParseLocation location, String name, BaseJsonLikeValue.ValueType expected,
            BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
            BaseJsonLikeValue.ScalarType foundScalar) {
          lossless = false;
        }

        @Override
        public void invalidValue(IParseLocation location, String value, String error) {
          lossless = false;
        }

        @Override
        public void extensionContainsValueAndNestedExtensions(IParseLocation location) {
          lossless = false;
        }
      };
    }

    /** One resource: itself, its references, then the resources it holds. */
    void resource(Resource r, @Nullable Resource container) {
      String type = r.fhirType();
      types.add(type);
      count++;
      if (type.equals("Patient")) {
        String id = r.getIdElement().getIdPart();
        if (container != null || id == null || id.isEmpty()) {
          unidentified.add(context.newJsonParser().encodeResourceToString(r));
        } else {
          identified.add(PatientKeys.patient(id));
        }
      }
      List<Reference> references = new ArrayList<>();
      List<Resource> held = new ArrayList<>();
      List<Resource> contained = new ArrayList<>();
      children(r, references, held, contained);
      for (Reference reference : references) {
        named(reference.getReference());
      }
      if (r instanceof Bundle bundle) {
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
          if (entry.hasFullUrl()) {
            named(entry.getFullUrl());
            if (entry.hasResource()) {
              entryUrls.add(entry.getFullUrl());
            }
          }
          if (entry.hasResponse() && entry.getResponse().hasLocation()) {
            named(entry.getResponse().getLocation());
          }
          if (entry.hasRequest() && entry.getRequest().hasUrl()) {
            named(entry.getRequest().getUrl());
          }
        }
      }
      // References that tie r to a patient but resolve to nothing here.
      Set<IBaseReference> owners = new HashSet<>();
      terser.getCompartmentReferencesForResource("Patient", r, (Set<String>) null).forEach(owners::add);
      Resource scope = container != null ? container : r;
      for (Reference reference : references) {
        boolean typedPatient = reference.hasType() && lastSegment(reference.getType()).equals("Patient");
        if (!typedPatient && !owners.contains(reference)) {
          continue;
        }
        References.Reading reading = References.classify(reference.getReference(), context);
        switch (reading.kind()) {
          case PATIENT, PATIENT_UNRESOLVED, OTHER_TYPE -> { }
          default -> {
            if (!typedPatient && reference.hasType() && context.getResourceTypes().contains(lastSegment(reference.getType()))) {
              continue;
            }
            if (reading.kind() == References.Kind.CONTAINED) {
              String local = reference.getReference().substring(1);
              if (local.isEmpty() || containedIds(scope).contains(local)) {
                continue;
              }
              unresolved.add(identity(scope) + " " + describe(reference));
            } else if (reading.kind() == References.Kind.URN) {
              urns.add(reference.getReference());
            } else {
              unresolved.add(describe(reference));
            }
          }
        }
      }
      for (Resource c : contained) {
        resource(c, r);
      }
      for (Resource h : held) {
        resource(h, null);
      }
    }

    /** Counts a reference, full URL, location or request URL that names a patient. */
    void named(@Nullable String text) {
      if (text == null || text.isEmpty()) {
        return;
      }
      References.Reading reading = References.classify(text, context);
      if (reading.kind() == References.Kind.PATIENT) {
        identified.add(PatientKeys.patient(reading.id()));
      } else if (reading.kind() == References.Kind.PATIENT_UNRESOLVED) {
        unresolved.add("text " + text);
      }
    }

    /** The References of r itself, and the resources it holds (contained apart), not looking inside those. */
    void children(Base element, List<Reference> references, List<Resource> held, List<Resource> contained) {
      for (Property property : element.children()) {
        for (Base value : property.getValues()) {
          if (value instanceof Resource resource) {
            (property.getName().equals("contained") ? contained : held).add(resource);
          } else if (value != null) {
            if (value instanceof Reference reference) {
              references.add(reference);
            }
            children(value, references, held, contained);
          }
        }
      }
    }

    Set<String> containedIds(Resource scope) {
      Set<String> ids = new HashSet<>();
      if (scope instanceof DomainResource d) {
        for (Resource c : d.getContained()) {
          String id = c.getIdElement().getIdPart();
          if (id != null) {
            ids.add(id.startsWith("#") ? id.substring(1) : id);
          }
        }
      }
      return ids;
    }

    String identity(Resource scope) {
      String id = scope.getIdElement().getIdPart();
      return id != null ? scope.fhirType() + "/" + id : context.newJsonParser().encodeResourceToString(scope);
    }

    String describe(Reference reference) {
      return "owner " + reference.getReference() + "|" + reference.getType() + "|"
          + (reference.hasIdentifier() ? reference.getIdentifier().getSystem() + "|" + reference.getIdentifier().getValue() : "")
          + "|" + reference.getDisplay();
    }
  }

  private static String lastSegment(String type) {
    return type.substring(type.lastIndexOf('/') + 1);
  }

  static int firstNonBlank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return b & 0xFF;
      }
    }
    return -1;
  }

  /** The sorted set, for messages. */
  static Set<String> sorted(Set<String> s) {
    return new TreeSet<>(s);
  }
}
