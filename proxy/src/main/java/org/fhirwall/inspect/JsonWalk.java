package org.fhirwall.inspect;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One streaming pass over a JSON (or NDJSON) body that names the patients it discloses. Not
 * thread-safe: one instance per thread, reused body after body (its frames, tokenizer and
 * collections are scratch that each walk starts by emptying), never for two bodies at once.
 *
 * <p>No object model is built, and no token object either: {@link JsonTokens} reads the UTF-8 bytes
 * in place (as strictly as Jackson would), and names, types and references are matched on those
 * bytes; a String is made only for what is kept. A stack of {@link WalkFrame}s, one per open object or array, holds what
 * the pass must remember about it; resources are recognised by their {@code resourceType} member
 * wherever they stand (top level, Bundle entries, nested Bundles, contained resources, Parameters,
 * outcomes), also when {@code resourceType} is not their first member.
 *
 * <p>What counts (see {@link PatientKeys} for the key forms):
 *
 * <ul>
 *   <li>every Patient resource (by id; by a hash of its bytes when contained or without an id);
 *   <li>every {@code reference} string anywhere that names {@code Patient/{id}}, every
 *       {@code Bundle.entry.fullUrl}, {@code entry.response.location} and {@code entry.request.url}
 *       that does;
 *   <li>a Reference on an owner path of a compartment member type (per
 *       {@link org.fhirwall.fhir.PatientCompartment}), or typed {@code Patient}, that resolves to
 *       nothing in the body: untyped, identifier- or display-only, a {@code urn:} no entry carries,
 *       a {@code #id} no contained resource has. It may name a patient, so it counts as one
 *       ({@code unresolved:} key). A typed reference to another type ({@code Group/1},
 *       {@code Practitioner/2}, {@code type: Device}) does not count;
 *   <li>inline content ({@code data} of a Binary or of an Attachment): JSON or XML content is read
 *       in turn, and must be readable when its {@code contentType} names fhir; content that is not
 *       FHIR is opaque. An opaque Binary counts as one unresolved patient unless its
 *       {@code securityContext} names a patient; an opaque Attachment counts nothing of its own
 *       (the resource holding it is counted by its references).
 * </ul>
 */
final class JsonWalk {
  /** Reads content found inline (Binary or Attachment {@code data}); returns what it discloses. */
  interface EmbeddedReader {
    Inspection read(byte[] content, String contentType, int nesting);
  }

  private static final int MAX_INLINE_NESTING = 3;

  private final WalkModel model;
  /** The model's member names and its shortest base, read for every member. */
  private final NameTable members;
  private final int shortestBase;
  private final int maxDepth;
  /** Reads reference strings, counting into {@link #patients}. */
  private final PatientReferences references;
  /** Codes member names by {@link #members}; spares the walk the values it does nothing with (see {@link #JsonWalk}). */
  private final JsonTokens tokens;
  /** Whether a walk is under way (inline content met during it is walked by another instance). */
  private boolean busy;

  // The body being walked and how; set by run, cleared when it ends.
  // Let go of by storing null (G1's write barrier filters null out at once; another array costs its full barrier).
  private byte @Nullable [] json;
  private boolean multipleRoots;
  private @Nullable EmbeddedReader embedded;
  private int nesting;

  // What the walk found; emptied at the end of each walk (finish).
  private final KeySet patients = new KeySet();
  private final UrlList.Builder urls = new UrlList.Builder();
  private final FoundTypes types;
  private int resourceCount;
  /** The ids of the Binary resources found (most bodies have none). */
  private final ArrayList<String> binaries = new ArrayList<>(0);
  /** The {@link WalkModel#types} code of the top-level resource (0: none yet). */
  private int rootType;

  private WalkFrame[] frames = new WalkFrame[16];
  private int depth = -1;
  /** The References met that resolve to nothing where they stand, until their resource is judged. */
  private final UnresolvedReferences unresolved;

  /**
   * Past this many elements, a collection is dropped after a walk rather than emptied for the next
   * (a scratch kept per thread must not keep the room one very large body needed).
   */
  static final int KEEP_AT_MOST = 4096;

  JsonWalk(WalkModel model) {
    this.model = model;
    this.members = model.members;
    this.shortestBase = model.shortestBase;
    this.maxDepth = model.maxDepth;
    // Quiet (not returned): a scalar, or a string too short to start with an upstream base, in an
    // array or under a name that is not one of the members the walk acts on: string and scalar
    // would only look such a value's name up to find it has no member code, and check its length.
    this.tokens = new JsonTokens(members, WalkModel.MEMBER, shortestBase);
    this.references = new PatientReferences(new ReferenceText(model.types), patients, model.plainBases);
    this.unresolved = new UnresolvedReferences(model, patients);
    this.types = new FoundTypes(model.typeNames);
    for (int i = 0; i < frames.length; i++) {
      frames[i] = new WalkFrame();
    }
  }

  /** Whether this walk is under way (then a body met inside it needs another instance). */
  boolean busy() {
    return busy;
  }

  /**
   * Walks the whole body; the result's {@code json} is {@code json} itself. Reusable: each call
   * starts afresh, whether the call before it ended in a result or in an exception; not reentrant
   * ({@link #busy()} says when a call is under way).
   */
  Inspection.Read run(byte[] json, boolean multipleRoots, EmbeddedReader embedded, int nesting) throws UnreadableException {
    if (busy) {
      throw new IllegalStateException("JsonWalk: a walk is under way (expected: one at a time)");
    }
    busy = true;
    try {
      start(json, multipleRoots, embedded, nesting);
      return walk();
    } finally {
      finish();
    }
  }

  private void start(byte[] body, boolean ndjson, EmbeddedReader reader, int level) {
    json = body;
    multipleRoots = ndjson;
    if (embedded != reader) {
      embedded = reader; // the inspector's own reader, the same body after body: kept, not stored again
    }
    nesting = level;
    resourceCount = 0;
    rootType = 0;
    depth = -1;
  }

  /** Lets go of the body and of what was found in it, keeping only the room of small collections. */
  private void finish() {
    json = null;
    tokens.release();
    patients.clear();
    types.clear();
    urls.clear(KEEP_AT_MOST); // ints only: no write barrier (see KeySet), no object per URL
    unresolved.clear();
    binaries.clear();
    busy = false;
  }

  static <T> ArrayList<T> emptied(ArrayList<T> list) {
    if (list.size() > KEEP_AT_MOST) {
      return new ArrayList<>();
    }
    list.clear();
    return list;
  }

  private Inspection.Read walk() throws UnreadableException {
    JsonTokens t = tokens;
    t.reset(json, multipleRoots);
    int token;
    while ((token = t.next()) != JsonTokens.END) {
      switch (token) {
        case JsonTokens.START_OBJECT -> pushObject(t);
        case JsonTokens.START_ARRAY -> pushArray(t);
        case JsonTokens.END_OBJECT -> endObject(t);
        case JsonTokens.END_ARRAY -> depth--;
        case JsonTokens.STRING -> string(t);
        default -> scalar(t, token);
      }
    }
    if (depth >= 0) {
      throw new UnreadableException("JSON body is truncated");
    }
    unresolved.resolveUrns(json, urls);
    // Immutable sets built here once, which Inspection.Read then keeps as they are.
    return new Inspection.Read(json, patients.toSet(), urls.toList(json), types.toSet(), resourceCount,
        multipleRoots ? null : model.typeNames[rootType], binaries.isEmpty() ? Set.of() : Set.copyOf(binaries));
  }

  // ---- structure

  // Objects and arrays open apart, each small enough for the compiler to inline into walk's loop.

  private void pushArray(JsonTokens t) throws UnreadableException {
    WalkFrame f = deeper();
    // An array frame is read for its name only (and its flag): the rest may hold an older object's state.
    f.array = true;
    f.start = -1;
    f.candidateMark = unresolved.mark();
    if (depth > 0 && !frames[depth - 1].array) {
      named(f, t);
    } else {
      f.nameStart = -1;
      f.nameCode = 0;
    }
  }

  private void pushObject(JsonTokens t) throws UnreadableException {
    WalkFrame f = deeper();
    f.reset();
    f.start = t.start;
    f.candidateMark = unresolved.mark();
    if (depth == 0) {
      return;
    }
    WalkFrame parent = frames[depth - 1];
    int leaf;
    if (parent.array) {
      leaf = parent.nameCode; // an item of the array: the array's name is its own
      switch (leaf & WalkModel.MEMBER) {
        case WalkModel.LINK -> f.linkItem = true;
        case WalkModel.ENTRY -> f.entryItem = true;
        case WalkModel.CONTAINED -> f.containedItem = true;
        default -> { }
      }
    } else {
      named(f, t);
      leaf = f.nameCode;
      if (parent.entryItem) {
        f.entryResponse = (leaf & WalkModel.MEMBER) == WalkModel.RESPONSE;
        f.entryRequest = (leaf & WalkModel.MEMBER) == WalkModel.REQUEST;
      }
    }
    f.ownerLeaf = (leaf & WalkModel.OWNER_LEAF) != 0;
  }

  /** The frame of a container about to open, one level deeper (refused past the model's depth). */
  private WalkFrame deeper() throws UnreadableException {
    if (depth + 2 > maxDepth) {
      throw new UnreadableException("JSON nesting deeper than " + maxDepth);
    }
    depth++;
    if (depth == frames.length) {
      growFrames();
    }
    return frames[depth];
  }

  private void growFrames() {
    frames = Arrays.copyOf(frames, depth * 2);
    for (int i = depth; i < frames.length; i++) {
      frames[i] = new WalkFrame();
    }
  }

  /** Gives {@code f}, which stands in an object, the current member name. */
  private void named(WalkFrame f, JsonTokens t) {
    f.nameStart = t.nameStart;
    f.nameEnd = t.nameEnd;
    f.nameFlags = t.nameFlags;
    f.nameCode = memberCode(t);
  }

  /** The {@link WalkModel#members} code of the current member name (0 for none). */
  private int memberCode(JsonTokens t) {
    return t.nameFlags == 0 ? t.nameCode : members.code(t.name()); // coded by the tokenizer while it read it
  }

  private void scalar(JsonTokens t, int token) throws UnreadableException {
    WalkFrame f = frames[depth];
    if (f.array) {
      return;
    }
    int code = memberCode(t) & WalkModel.MEMBER;
    if (code == WalkModel.RESOURCE_TYPE || (code == WalkModel.REFERENCE && token != JsonTokens.NULL)) {
      throw new UnreadableException("JSON member '" + t.name() + "' is not a string");
    }
  }

  private void string(JsonTokens t) throws UnreadableException {
    WalkFrame f = frames[depth];
    if (f.array) {
      UpstreamBases.check(t, json, model, shortestBase, urls);
      return;
    }
    switch (memberCode(t) & WalkModel.MEMBER) {
      case WalkModel.RESOURCE_TYPE -> resourceType(f, t);
      case WalkModel.ID -> f.addId(t);
      case WalkModel.REFERENCE -> references.reference(frames, depth, f, t, json);
      case WalkModel.TYPE -> f.rare().referenceType = t.text();
      case WalkModel.CONTENT_TYPE -> f.rare().contentType = t.text();
      case WalkModel.RELATION -> {
        if (f.linkItem) {
          WalkFrame link = f.rare(); // ranges, not Strings: see WalkFrame.resourceType
          link.relationStart = t.start + 1;
          link.relationEnd = t.end - 1;
          link.relationFlags = t.flags;
        }
      }
      case WalkModel.DATA -> {
        f.rare().dataStart = t.start;
        f.dataEnd = t.end;
        return;
      }
      case WalkModel.FULL_URL -> {
        if (f.entryItem) {
          references.countPatientIn(t, json);
          f.rare().fullUrlIndex = urls.add(t.start, t.end, t.flags); // an int: no reference stored into the long-lived frame
          return;
        }
      }
      case WalkModel.LOCATION -> {
        if (f.entryResponse) {
          references.countPatientIn(t, json);
          urls.add(t.start, t.end, t.flags);
          return;
        }
      }
      case WalkModel.URL -> {
        if (f.linkItem) {
          WalkFrame link = f.rare();
          link.urlStart = t.start;
          link.urlEnd = t.end;
          link.urlFlags = t.flags;
          return;
        }
        if (f.entryRequest) {
          references.countPatientIn(t, json);
        }
      }
      default -> { }
    }
    UpstreamBases.check(t, json, model, shortestBase, urls);
  }

  private void resourceType(WalkFrame f, JsonTokens t) throws UnreadableException {
    // The known type's code: no allocation, and one code per type.
    int type = t.flags == 0
        ? model.types.code(json, t.start + 1, t.end - t.start - 2)
        : model.types.code(t.text());
    if (f.resourceType != 0 && f.resourceType != type) {
      throw new UnreadableException("JSON object has two different resourceType members");
    }
    if (type == 0) {
      throw new UnreadableException("unknown resourceType");
    }
    f.resourceType = type;
  }

  private void endObject(JsonTokens t) throws UnreadableException {
    WalkFrame f = frames[depth];
    int end = t.start + 1;
    if (f.resourceType != 0) {
      endResource(f, end);
    } else {
      if (depth == 0) {
        throw new UnreadableException("JSON body is not a FHIR resource (no resourceType)");
      }
      if (f.ownerLeaf || f.referenceType != null) {
        unresolved.endElement(frames, depth, f, end); // nothing to judge on other elements (see there)
      }
      if (f.dataStart >= 0) {
        inlineContent(f, end);
      }
    }
    if (f.linkItem && f.urlStart >= 0) {
      if (f.relationStart >= 0) {
        urls.add(f.urlStart, f.urlEnd, f.urlFlags, f.relationStart, f.relationEnd, f.relationFlags); // its texts made when asked for
      } else if (UpstreamBases.startsWithBase(model, t.text(f.urlStart + 1, f.urlEnd - 1, f.urlFlags))) {
        urls.add(f.urlStart, f.urlEnd, f.urlFlags);
      }
    }
    if (f.entryItem && f.fullUrlIndex >= 0 && f.entryHasResource) {
      unresolved.addEntryUrl(f.fullUrlIndex);
    }
    depth--;
  }

  // ---- resources

  private void endResource(WalkFrame f, int end) throws UnreadableException {
    String type = model.typeNames[f.resourceType];
    if (depth == 0) {
      rootType = f.resourceType;
    }
    resourceCount++;
    types.add(f.resourceType);
    boolean contained = f.containedItem && depth >= 2;
    if (f.resourceType == model.patientType) {
      if (f.containedItem || f.idStart < 0) {
        patients.add(PatientKeys.unidentified(json, f.start, end));
      } else {
        if (f.idFlags == 0) {
          // Mostly counted already from its entry's full URL: the key's String only when it is new.
          patients.addPrefixed(PatientKeys.PATIENT_PREFIX, json, f.idStart, f.idEnd);
        } else {
          patients.add(PatientKeys.patient(f.id(tokens)));
        }
        if (f.moreIds != null) {
          for (String id : f.moreIds) {
            patients.add(PatientKeys.patient(id));
          }
        }
      }
    }
    if (f.resourceType == model.binaryType && f.id(tokens) != null) {
      binaries.add(f.id(tokens));
      if (f.moreIds != null) {
        binaries.addAll(f.moreIds);
      }
    }
    WalkFrame container = contained ? frames[depth - 2] : null;
    if (container != null && f.id(tokens) != null) {
      container.containedTypes().put(f.id(tokens), type);
    }
    unresolved.judge(f, container, type, depth, end, json, tokens);
    if (f.dataStart >= 0) {
      inlineContent(f, end);
    }
    if (depth >= 1 && (f.nameCode & WalkModel.MEMBER) == WalkModel.RESOURCE && frames[depth - 1].entryItem) {
      frames[depth - 1].rare().entryHasResource = true;
    }
  }

  // ---- inline content

  private void inlineContent(WalkFrame f, int end) throws UnreadableException {
    String contentType = f.contentType == null ? "" : f.contentType.toLowerCase(Locale.ROOT);
    boolean fhir = contentType.contains("fhir");
    if (fhir || contentType.contains("json") || contentType.contains("xml")) {
      if (nesting >= MAX_INLINE_NESTING) {
        throw new UnreadableException("inline content nested too deeply");
      }
      Inspection inner = requireNonNull(embedded, "embedded").read(decodeData(f), contentType, nesting + 1);
      if (inner instanceof Inspection.Read read) {
        patients.addAll(read.patients());
        for (String type : read.resourceTypes()) {
          types.add(type, model.types.code(type));
        }
        resourceCount += read.resourceCount();
        binaries.addAll(read.binaries());
        return;
      }
      if (fhir) {
        throw new UnreadableException("inline FHIR content unreadable: " + ((Inspection.Unreadable) inner).reason());
      }
    }
    if ("Binary".equals(model.typeNames[f.resourceType]) && !f.securityContextIsPatient) {
      // Opaque content (a PDF, an image, a CDA document): assume it is about one patient, the same one each read.
      patients.add(f.id(tokens) != null
          ? PatientKeys.unresolved("Binary/" + f.id)
          : PatientKeys.unresolved(PatientKeys.UNREADABLE_BINARY, json, f.start, end));
    }
  }

  private byte[] decodeData(WalkFrame f) throws UnreadableException {
    try (JsonParser data = model.factory.createParser(json, f.dataStart, f.dataEnd - f.dataStart)) {
      if (data.nextToken() != JsonToken.VALUE_STRING) {
        throw new UnreadableException("inline data is not a string");
      }
      return data.getBinaryValue();
    } catch (IOException | IllegalArgumentException e) {
      throw new UnreadableException("inline data is not base64");
    }
  }

}
