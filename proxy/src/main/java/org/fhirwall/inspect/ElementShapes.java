package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeChildChoiceDefinition;
import ca.uhn.fhir.context.RuntimeChildExtension;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * What each FHIR element looks like, for {@link XmlToJson}: for a resource, datatype or backbone
 * element and an XML element name, whether the name is a child of it, whether that child repeats
 * (and so is a JSON array), and how its value is written in JSON (string, number, boolean,
 * object, nested resource or XHTML string). Taken from HAPI FHIR's structure definitions and
 * cached per (type, element name) the first time a name is asked for; names that are not children
 * are not cached, so a body cannot grow the cache. Thread-safe.
 */
final class ElementShapes {
  /** How a child's value is written in JSON. */
  enum Kind {
    STRING, INTEGER, DECIMAL, BOOLEAN,
    /** A datatype or backbone element: a JSON object. */
    COMPLEX,
    /** A child holding one resource ({@code contained}, {@code Bundle.entry.resource}, ...). */
    RESOURCE,
    /** The narrative's {@code div}, an XHTML element written as a string. */
    XHTML;

    boolean primitive() {
      return ordinal() <= BOOLEAN.ordinal();
    }
  }

  /** One child of a {@link Node}: its JSON keys, whether it repeats, its kind and, for COMPLEX, its node. */
  static final class Slot {
    final String name;
    /** {@code "name":} in UTF-8. */
    final byte[] key;
    /** {@code "_name":} in UTF-8, for a primitive's id and extensions. */
    final byte[] sideKey;
    final boolean repeating;
    final Kind kind;
    /** The child's position in its parent (choice variants share one). */
    final int index;
    final @Nullable Node node;

    Slot(String name, boolean repeating, Kind kind, int index, @Nullable Node node) {
      this.name = name;
      this.key = ("\"" + name + "\":").getBytes(StandardCharsets.UTF_8);
      this.sideKey = ("\"_" + name + "\":").getBytes(StandardCharsets.UTF_8);
      this.repeating = repeating;
      this.kind = kind;
      this.index = index;
      this.node = node;
    }
  }

  /** A resource, datatype or backbone element, with its children looked up by XML element name. */
  final class Node {
    final String typeName;
    /** An Extension: its {@code url} is an attribute. */
    final boolean extension;
    /** {@code "resourceType":"Type"} for a resource, else null. */
    final byte @Nullable [] resourceTypeMember;
    final int childCount;
    private final BaseRuntimeElementCompositeDefinition<?> definition;
    private final Map<BaseRuntimeChildDefinition, Integer> indexes = new IdentityHashMap<>();
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

    private Node(BaseRuntimeElementCompositeDefinition<?> definition, boolean resource) {
      this.definition = definition;
      this.typeName = definition.getName();
      this.extension = !resource && typeName.equals("Extension");
      this.resourceTypeMember = resource
          ? ("\"resourceType\":\"" + typeName + "\"").getBytes(StandardCharsets.UTF_8) : null;
      List<BaseRuntimeChildDefinition> children = definition.getChildrenAndExtension();
      for (int i = 0; i < children.size(); i++) {
        indexes.put(children.get(i), i);
      }
      this.childCount = children.size();
    }

    boolean isResource() {
      return resourceTypeMember != null;
    }

    /** The child named {@code name} in XML, or null when there is none. */
    @Nullable Slot slot(String name) {
      Slot slot = slots.get(name);
      if (slot == null) {
        slot = resolve(this, name);
        if (slot != null) {
          Slot raced = slots.putIfAbsent(name, slot);
          slot = raced != null ? raced : slot;
        }
      }
      return slot;
    }
  }

  private final FhirContext context;
  private final Set<String> resourceTypes;
  private final ConcurrentHashMap<String, Node> resources = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<BaseRuntimeElementDefinition<?>, Node> elements = new ConcurrentHashMap<>();
  /** The {@code extension} child as it appears under a primitive. */
  final Slot primitiveExtension;

  ElementShapes(FhirContext context, Set<String> resourceTypes) {
    this.context = requireNonNull(context, "context");
    this.resourceTypes = Set.copyOf(resourceTypes);
    Node extension = element((BaseRuntimeElementCompositeDefinition<?>) requireNonNull(
        context.getElementDefinition("Extension"), "Extension definition"));
    this.primitiveExtension = requireNonNull(extension.slot("extension"), "Extension.extension");
  }

  /** The resource type named {@code name}, or null when it is not one. */
  @Nullable Node resource(String name) {
    Node node = resources.get(name);
    if (node == null && resourceTypes.contains(name)) {
      node = resources.computeIfAbsent(name, n -> new Node(context.getResourceDefinition(n), true));
    }
    return node;
  }

  private Node element(BaseRuntimeElementCompositeDefinition<?> definition) {
    return elements.computeIfAbsent(definition, d -> new Node((BaseRuntimeElementCompositeDefinition<?>) d, false));
  }

  private @Nullable Slot resolve(Node parent, String name) {
    if ((!parent.isResource() && name.equals("id")) || (parent.extension && name.equals("url"))) {
      return null; // attributes in XML, never elements
    }
    BaseRuntimeChildDefinition child = parent.definition.getChildByName(name);
    if (child == null || (!(child instanceof RuntimeChildChoiceDefinition) && !name.equals(child.getElementName()))) {
      return null; // HAPI's own aliases (subjectResource) are not FHIR names
    }
    // HAPI answers modifierExtension's type only by the name "extension".
    BaseRuntimeElementDefinition<?> element = child instanceof RuntimeChildExtension
        ? context.getElementDefinition("Extension") : child.getChildByName(name);
    Integer index = parent.indexes.get(child);
    if (element == null || index == null) {
      return null;
    }
    boolean repeating = child.getMax() != 1;
    return switch (element.getChildType()) {
      case PRIMITIVE_DATATYPE, ID_DATATYPE -> new Slot(name, repeating, primitiveKind(element.getName()), index, null);
      case PRIMITIVE_XHTML_HL7ORG -> name.equals("div") && !repeating ? new Slot(name, false, Kind.XHTML, index, null) : null;
      case COMPOSITE_DATATYPE, RESOURCE_BLOCK -> new Slot(name, repeating, Kind.COMPLEX, index,
          element((BaseRuntimeElementCompositeDefinition<?>) element));
      case CONTAINED_RESOURCE_LIST, CONTAINED_RESOURCES, RESOURCE -> new Slot(name, repeating, Kind.RESOURCE, index, null);
      default -> null;
    };
  }

  private static Kind primitiveKind(String datatype) {
    return switch (datatype) {
      case "boolean" -> Kind.BOOLEAN;
      case "integer", "positiveInt", "unsignedInt" -> Kind.INTEGER;
      case "decimal" -> Kind.DECIMAL;
      default -> Kind.STRING; // integer64 too (R5, not in R4): FHIR JSON writes it as a string
    };
  }
}
