package org.fhirwall.inspect;

import static org.fhirwall.inspect.WalkFrame.CONTAINED;
import static org.fhirwall.inspect.WalkFrame.OTHER_TYPE;
import static org.fhirwall.inspect.WalkFrame.PATIENT;
import static org.fhirwall.inspect.WalkFrame.URN;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The References of a body that resolve to nothing where they stand ({@link ReferenceCandidate}s),
 * from the object that holds one until the resource around it is judged, and what is needed to
 * resolve them; an unresolved one that may name a patient is counted into the walk's {@link KeySet}.
 * Scratch of one {@link JsonWalk}, emptied by {@link #clear()} after each walk.
 */
final class UnresolvedReferences {
  private final WalkModel model;
  private final KeySet patients;
  private ArrayList<ReferenceCandidate> candidates = new ArrayList<>();
  /**
   * Full URLs of the entries that hold a resource, as indexes in the walk's URLs (ints: no reference
   * stored into this long-lived scratch per entry); only read when a {@code urn:} reference needs resolving.
   */
  private int[] entryUrls = new int[16];
  private int entryUrlCount;
  private ArrayList<ReferenceCandidate> urnCandidates = new ArrayList<>();

  UnresolvedReferences(WalkModel model, KeySet patients) {
    this.model = model;
    this.patients = patients;
  }

  /** Where the candidates of an object about to open start. */
  int mark() {
    return candidates.size();
  }

  void clear() {
    candidates = JsonWalk.emptied(candidates);
    if (entryUrls.length > JsonWalk.KEEP_AT_MOST) {
      entryUrls = new int[16];
    }
    entryUrlCount = 0;
    urnCandidates = JsonWalk.emptied(urnCandidates);
  }

  /** Counts the {@code urn:} candidates that no entry's full URL (in {@code urls}) resolves; at the end of a walk. */
  void resolveUrns(byte[] json, UrlList.Builder urls) {
    if (!urnCandidates.isEmpty()) {
      Set<String> entries = new HashSet<>();
      for (int i = 0; i < entryUrlCount; i++) {
        entries.add(urls.value(json, entryUrls[i]));
      }
      for (ReferenceCandidate c : urnCandidates) {
        if (!entries.contains(c.reference())) {
          patients.add(unresolvedKey(c, null, json));
        }
      }
    }
  }

  /** Notes the full URL of an entry that holds a resource (what a {@code urn:} reference may name): its index in the walk's URLs. */
  void addEntryUrl(int urlIndex) {
    if (entryUrlCount == entryUrls.length) {
      entryUrls = Arrays.copyOf(entryUrls, entryUrlCount * 2);
    }
    entryUrls[entryUrlCount++] = urlIndex;
  }

  /** End of an object that is not a resource: is it a Reference that may name a patient unresolved? */
  void endElement(WalkFrame[] frames, int depth, WalkFrame f, int end) {
    byte kind = f.referenceKind;
    if (kind == PATIENT || kind == OTHER_TYPE) {
      return;
    }
    String typeName = f.referenceType == null ? null : f.referenceType.substring(f.referenceType.lastIndexOf('/') + 1);
    boolean typedPatient = "Patient".equals(typeName);
    if (!typedPatient) {
      if (!f.ownerLeaf) {
        return;
      }
      if (typeName != null && model.knownTypes.contains(typeName)) {
        return;
      }
    }
    // The names on the way here, as ranges of the body: most candidates are dropped unread.
    int[] names = new int[3 * (depth + 1)];
    for (int i = 0; i <= depth; i++) {
      WalkFrame frame = frames[i];
      names[3 * i] = frame.nameStart;
      names[3 * i + 1] = frame.nameEnd;
      names[3 * i + 2] = frame.nameFlags;
    }
    candidates.add(new ReferenceCandidate(names, kind, f.reference, f.start, end, typedPatient));
  }

  /**
   * Judges the candidates met inside the resource {@code f} (at {@code depth}, ending at
   * {@code end}) now that its type is known: those on an owner path of a compartment member type,
   * or typed Patient, count (a {@code #id} one once its container is known, a {@code urn:} one at
   * the end of the walk); the others are dropped.
   */
  void judge(WalkFrame f, @Nullable WalkFrame container, String type, int depth, int end, byte[] json, JsonTokens tokens) {
    boolean member = f.candidateMark < candidates.size() && model.compartment.inCompartment(type);
    Set<List<String>> owners = member ? model.compartment.ownerPaths(type) : Set.of();
    for (int i = f.candidateMark; i < candidates.size(); i++) {
      ReferenceCandidate c = candidates.get(i);
      if (!c.typedPatient() && !(member && ReferenceCandidate.onOwnerPath(c, owners, depth, json, tokens))) {
        continue;
      }
      switch (c.kind()) {
        case CONTAINED -> {
          if (container != null) {
            container.containedCandidates().add(c);
          } else {
            resolveContained(f, c, end, json, tokens);
          }
        }
        case URN -> urnCandidates.add(c);
        default -> patients.add(unresolvedKey(c, null, json));
      }
    }
    truncateCandidates(f.candidateMark);
    if (f.containedCandidates != null) {
      for (ReferenceCandidate c : f.containedCandidates) {
        resolveContained(f, c, end, json, tokens);
      }
    }
  }

  private void resolveContained(WalkFrame container, ReferenceCandidate c, int containerEnd, byte[] json, JsonTokens tokens) {
    String reference = c.reference();
    String local = reference == null ? "" : reference.substring(1);
    if (local.isEmpty() || container.containedTypes != null && container.containedTypes.containsKey(local)) {
      return; // the container itself, or a contained resource counted on its own
    }
    // "#x" only means something inside its container: key it with the container's identity.
    String scope = container.id(tokens) != null
        ? model.typeNames[container.resourceType] + "/" + container.id
        : PatientKeys.unidentified(json, container.start, containerEnd);
    patients.add(unresolvedKey(c, scope, json));
  }

  private static String unresolvedKey(ReferenceCandidate c, @Nullable String scope, byte[] json) {
    return PatientKeys.unresolved(scope == null ? "reference" : "reference\u0000" + scope, json, c.start(), c.end());
  }

  private void truncateCandidates(int mark) {
    if (mark < candidates.size()) {
      candidates.subList(mark, candidates.size()).clear();
    }
  }
}
