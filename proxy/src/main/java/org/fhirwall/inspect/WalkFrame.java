package org.fhirwall.inspect;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** What the walk remembers about one open object or array; reused across the walk by depth. */
final class WalkFrame {
  // What referenceKind holds: how the reference string of this object (if any) read.
  static final byte NONE = 0;
  static final byte PATIENT = 1;
  static final byte OTHER_TYPE = 2;
  static final byte CONTAINED = 3;
  static final byte URN = 4;
  static final byte UNTYPED = 5;

  boolean array;
  /** The member name's raw bytes (between the quotes) and {@link JsonTokens} flags; -1 for none. */
  int nameStart;
  int nameEnd;
  int nameFlags;
  /** {@link WalkModel#members} code of {@link #name} (0 for none). */
  int nameCode;
  int start;
  int candidateMark;
  boolean linkItem;
  boolean entryItem;
  boolean entryResponse;
  boolean entryRequest;
  boolean containedItem;
  boolean ownerLeaf;
  /**
   * The {@link WalkModel#types} code of this object's {@code resourceType} (0: not a resource). An
   * int, not the type's String: storing a reference into a long-lived frame costs G1's full write barrier.
   */
  int resourceType;
  /** The first {@code id} member: its raw bytes and flags, and its text once asked for. */
  int idStart;
  int idEnd;
  int idFlags;
  @Nullable String id;
  @Nullable List<String> moreIds;
  byte referenceKind;
  @Nullable String reference;
  @Nullable String referenceType;
  /** A link's {@code url} string: its token's range (quotes included; start -1 for none) and flags. */
  int urlStart;
  int urlEnd;
  int urlFlags;
  /** A link's {@code relation}: its content's range (start -1 for none) and flags. */
  int relationStart;
  int relationEnd;
  int relationFlags;
  /** The index in the walk's URLs of this entry's {@code fullUrl} (its last one), -1 for none. */
  int fullUrlIndex;
  /** Whether this entry holds a resource. */
  boolean entryHasResource;
  @Nullable Map<String, String> containedTypes;
  @Nullable List<ReferenceCandidate> containedCandidates;
  @Nullable String contentType;
  int dataStart;
  int dataEnd;
  boolean securityContextIsPatient;

  /** Whether a field below {@link #rare()} may hold a value: only then does {@link #reset()} clear them. */
  boolean dirty = true;

  WalkFrame() {
    reset();
  }

  /**
   * This frame, about to have one of its rarely set fields set: {@code moreIds}, {@code reference},
   * {@code referenceType}, {@code urlStart}, {@code relationStart}, {@code fullUrlIndex}, {@code entryHasResource},
   * {@code containedTypes}, {@code containedCandidates}, {@code contentType}, {@code dataStart},
   * {@code securityContextIsPatient}. Every write of one of them goes through here.
   */
  WalkFrame rare() {
    dirty = true;
    return this;
  }

  void reset() {
    array = false;
    nameStart = -1;
    nameCode = 0;
    linkItem = false;
    entryItem = false;
    entryResponse = false;
    entryRequest = false;
    containedItem = false;
    ownerLeaf = false;
    resourceType = 0;
    idStart = -1;
    id = null;
    referenceKind = NONE;
    if (dirty) {
      // Most objects set none of these: clearing them only after one did spares a dozen stores per object.
      moreIds = null;
      reference = null;
      referenceType = null;
      urlStart = -1;
      relationStart = -1;
      fullUrlIndex = -1;
      entryHasResource = false;
      containedTypes = null;
      containedCandidates = null;
      contentType = null;
      dataStart = -1;
      securityContextIsPatient = false;
      dirty = false;
    }
  }

  void addId(JsonTokens t) {
    if (idStart < 0) {
      idStart = t.start + 1;
      idEnd = t.end - 1;
      idFlags = t.flags;
      return;
    }
    String value = t.text();
    if (!value.equals(id(t))) {
      if (moreIds == null) {
        rare().moreIds = new ArrayList<>(2);
      }
      moreIds.add(value);
    }
  }

  /** The first {@code id} member's text, made when first asked for (most ids are never needed). */
  @Nullable String id(@Nullable JsonTokens t) {
    if (id == null && idStart >= 0 && t != null) {
      id = t.text(idStart, idEnd, idFlags);
    }
    return id;
  }

  Map<String, String> containedTypes() {
    if (containedTypes == null) {
      rare().containedTypes = new HashMap<>();
    }
    return containedTypes;
  }

  List<ReferenceCandidate> containedCandidates() {
    if (containedCandidates == null) {
      rare().containedCandidates = new ArrayList<>();
    }
    return containedCandidates;
  }
}
