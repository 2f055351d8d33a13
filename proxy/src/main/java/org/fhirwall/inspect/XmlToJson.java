package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.fhirwall.inspect.ElementShapes.Kind;
import org.fhirwall.inspect.ElementShapes.Node;
import org.fhirwall.inspect.ElementShapes.Slot;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a FHIR XML resource into FHIR JSON in one streaming pass (StAX in, UTF-8 bytes out),
 * without building HAPI FHIR's model: HAPI's structure definitions ({@link ElementShapes}) only
 * say which elements exist, which repeat and which primitives are JSON numbers or booleans. The
 * rules are the R4 "JSON representation": {@code resourceType} from the root element, a
 * primitive's {@code value} attribute as its JSON value and its {@code id} and extensions under
 * {@code _name} (arrays aligned with {@code null} for repeating primitives), the {@code id} and
 * {@code url} attributes as members, repeating elements always as arrays, resource containers
 * as nested resources, the narrative's XHTML {@code div} as its serialized string, integers in
 * canonical form and decimals with their text exactly.
 *
 * <p>Fails closed ({@link UnreadableException}): a DOCTYPE or entity declaration anywhere (refused
 * before parsing; DTDs and external entities are off in the parser too), malformed or truncated
 * XML, a root that is not a known resource type in the FHIR namespace, an element or attribute
 * the definitions do not have or in the wrong namespace, text where none belongs, an element that
 * repeats but may not (or whose repeats are not adjacent), a value that is not of its type,
 * nesting deeper than {@code maxDepth} elements, or JSON longer than {@code maxBytes}. Reasons
 * carry no body content. Thread-safe.
 */
final class XmlToJson {
  private static final Logger log = LoggerFactory.getLogger(XmlToJson.class);
  static final String FHIR_NS = "http://hl7.org/fhir";
  static final String XHTML_NS = "http://www.w3.org/1999/xhtml";
  private static final byte[] ID_KEY = "\"id\":".getBytes(StandardCharsets.UTF_8);
  private static final byte[] URL_KEY = "\"url\":".getBytes(StandardCharsets.UTF_8);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.UTF_8);
  private static final byte[] DOCTYPE = "<!doctype".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ENTITY = "<!entity".getBytes(StandardCharsets.US_ASCII);

  private final ElementShapes shapes;
  private final int maxDepth;
  private final long maxBytes;
  // StAX does not promise that a factory is thread-safe: one per thread, configured once.
  private final ThreadLocal<XMLInputFactory> factories = ThreadLocal.withInitial(XmlToJson::newFactory);

  XmlToJson(ElementShapes shapes, int maxDepth, long maxBytes) {
    this.shapes = requireNonNull(shapes, "shapes");
    this.maxDepth = maxDepth;
    this.maxBytes = maxBytes;
  }

  /** The JDK's own StAX implementation, whatever else the class path offers. */
  private static XMLInputFactory newFactory() {
    XMLInputFactory factory = XMLInputFactory.newDefaultFactory();
    factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    return factory;
  }

  /** The JSON form of the FHIR XML resource {@code xml}. */
  byte[] convert(byte[] xml) throws UnreadableException {
    if (containsDoctype(xml)) {
      throw new UnreadableException("XML body with a DOCTYPE");
    }
    XMLStreamReader reader = null;
    try {
      reader = factories.get().createXMLStreamReader(new ByteArrayInputStream(xml));
      return new Conversion(reader, new JsonOut(xml.length - (xml.length >> 2), maxBytes)).run();
    } catch (XMLStreamException e) {
      throw new UnreadableException("malformed XML");
    } finally {
      if (reader != null) {
        try {
          reader.close();
        } catch (XMLStreamException e) {
          log.debug("closing an XML reader failed", e);
        }
      }
    }
  }

  /** One body's pass: the reader, the output and the element depth. */
  private final class Conversion {
    private final XMLStreamReader in;
    private final JsonOut out;
    private final StringBuilder xhtml = new StringBuilder();
    private int depth;

    Conversion(XMLStreamReader in, JsonOut out) {
      this.in = in;
      this.out = out;
    }

    byte[] run() throws XMLStreamException, UnreadableException {
      if (skipToElement() != XMLStreamConstants.START_ELEMENT) {
        throw new UnreadableException("XML body without a root element");
      }
      resourceElement();
      while (in.hasNext()) {
        int event = in.next();
        if (event != XMLStreamConstants.END_DOCUMENT && !ignorable(event)) {
          throw new UnreadableException("content after the XML root element");
        }
      }
      return out.toByteArray();
    }

    /** The event of the next element start or end, past whitespace, comments and processing instructions. */
    private int skipToElement() throws XMLStreamException, UnreadableException {
      while (in.hasNext()) {
        int event = in.next();
        if (event == XMLStreamConstants.START_ELEMENT || event == XMLStreamConstants.END_ELEMENT) {
          return event;
        }
        if (!ignorable(event)) {
          throw new UnreadableException(event == XMLStreamConstants.DTD ? "XML body with a DOCTYPE" : "text where FHIR XML has none");
        }
      }
      return XMLStreamConstants.END_DOCUMENT;
    }

    private boolean ignorable(int event) {
      return switch (event) {
        case XMLStreamConstants.COMMENT, XMLStreamConstants.PROCESSING_INSTRUCTION, XMLStreamConstants.SPACE,
            XMLStreamConstants.START_DOCUMENT -> true;
        case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> whitespace();
        default -> false;
      };
    }

    private boolean whitespace() {
      char[] text = in.getTextCharacters();
      int end = in.getTextStart() + in.getTextLength();
      for (int i = in.getTextStart(); i < end; i++) {
        char c = text[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
          return false;
        }
      }
      return true;
    }

    /** At a resource's start element: writes it as a JSON object and consumes it. */
    private void resourceElement() throws XMLStreamException, UnreadableException {
      enter();
      Node node = FHIR_NS.equals(in.getNamespaceURI()) ? shapes.resource(in.getLocalName()) : null;
      if (node == null) {
        throw new UnreadableException("XML element is not a FHIR resource");
      }
      attributes(node);
      out.write('{');
      out.write(requireNonNull(node.resourceTypeMember));
      members(node);
      out.write('}');
      depth--;
    }

    private void enter() throws UnreadableException {
      if (++depth > maxDepth) {
        throw new UnreadableException("XML nesting deeper than " + maxDepth);
      }
    }

    /**
     * Checks the attributes of a resource, complex element or (null) resource container; writes a
     * complex element's {@code id} and an extension's {@code url}. Attributes in a namespace
     * (xsi:schemaLocation) carry nothing FHIR reads and are passed over (nor are they released: the
     * JSON written here is what a client gets).
     */
    private void attributes(@Nullable Node complex) throws UnreadableException {
      int count = in.getAttributeCount();
      for (int i = 0; i < count; i++) {
        String ns = in.getAttributeNamespace(i);
        if (ns != null && !ns.isEmpty()) {
          continue;
        }
        String name = in.getAttributeLocalName(i);
        if (complex != null && !complex.isResource() && name.equals("id")) {
          out.comma();
          out.write(ID_KEY);
          out.string(in.getAttributeValue(i));
        } else if (complex != null && complex.extension && name.equals("url")) {
          out.comma();
          out.write(URL_KEY);
          out.string(in.getAttributeValue(i));
        } else {
          throw new UnreadableException("unknown XML attribute on a FHIR element");
        }
      }
    }

    /** Writes the children of the current element (a resource or complex element) as members, up to its end. */
    private void members(Node node) throws XMLStreamException, UnreadableException {
      long seen = 0;
      boolean[] seenMore = node.childCount > 64 ? new boolean[node.childCount] : null;
      Slot run = null;
      int runMark = 0;
      boolean runValues = false;
      List<byte @Nullable []> sides = null;
      int items = 0;
      while (true) {
        int event = skipToElement();
        if (event != XMLStreamConstants.START_ELEMENT) {
          if (run != null) {
            closeRun(run, runMark, runValues, sides, items);
          }
          return; // END_ELEMENT (an early end of the document is malformed XML, reported by the reader)
        }
        enter();
        Slot slot = node.slot(in.getLocalName());
        String ns = in.getNamespaceURI();
        if (slot == null || !(slot.kind == Kind.XHTML ? XHTML_NS : FHIR_NS).equals(ns)) {
          throw new UnreadableException("unknown element in FHIR XML " + node.typeName);
        }
        if (slot != run) {
          if (run != null) {
            closeRun(run, runMark, runValues, sides, items);
          }
          if (seenMore != null ? seenMore[slot.index] : (seen & (1L << slot.index)) != 0) {
            throw new UnreadableException("FHIR XML element " + node.typeName + "." + slot.name + " repeats apart or twice");
          }
          if (seenMore != null) {
            seenMore[slot.index] = true;
          } else {
            seen |= 1L << slot.index;
          }
          run = slot;
          runMark = out.position();
          runValues = false;
          sides = null;
          items = 0;
          if (slot.repeating || !slot.kind.primitive()) {
            out.comma();
            out.write(slot.key);
            if (slot.repeating) {
              out.write('[');
            }
          }
        } else if (!slot.repeating) {
          throw new UnreadableException("FHIR XML element " + node.typeName + "." + slot.name + " repeats");
        }
        if (slot.repeating || !slot.kind.primitive()) {
          out.comma(); // a lone primitive writes its own key, or only "_name"
        }
        switch (slot.kind) {
          case COMPLEX -> complex(requireNonNull(slot.node));
          case RESOURCE -> container();
          case XHTML -> xhtml();
          default -> {
            byte[] side = primitive(slot, slot.repeating);
            runValues |= valueWritten;
            if (side != null) {
              if (sides == null) {
                sides = new ArrayList<>();
              }
              while (sides.size() < items) {
                sides.add(null);
              }
              sides.add(side);
            }
            items++;
          }
        }
        depth--;
      }
    }

    /**
     * Ends a run of one child: the array of a repeating element; for a repeating primitive, its
     * values (dropped when all are null) and then its ids and extensions as the aligned "_name" array.
     */
    private void closeRun(Slot run, int runMark, boolean runValues, @Nullable List<byte @Nullable []> sides, int items)
        throws UnreadableException {
      if (!run.repeating) {
        return;
      }
      if (!run.kind.primitive() || runValues) {
        out.write(']');
      } else {
        out.truncate(runMark);
      }
      if (sides != null) {
        out.comma();
        out.write(run.sideKey);
        out.write('[');
        for (int i = 0; i < items; i++) {
          out.comma();
          byte[] side = i < sides.size() ? sides.get(i) : null;
          out.write(side != null ? side : NULL);
        }
        out.write(']');
      }
    }

    /** Whether the last {@link #primitive} wrote a value. */
    private boolean valueWritten;

    /**
     * At a primitive's start element: writes its value (as an array item with {@code inArray},
     * {@code null} when it has none) and consumes it. Its id and extensions are written as
     * {@code "_name"} here, or in an array returned as a JSON object cut out of the output.
     */
    private byte @Nullable [] primitive(Slot slot, boolean inArray) throws XMLStreamException, UnreadableException {
      String value = null;
      String id = null;
      int count = in.getAttributeCount();
      for (int i = 0; i < count; i++) {
        String ns = in.getAttributeNamespace(i);
        if (ns != null && !ns.isEmpty()) {
          continue;
        }
        String name = in.getAttributeLocalName(i);
        if (name.equals("value")) {
          value = in.getAttributeValue(i);
        } else if (name.equals("id")) {
          id = in.getAttributeValue(i);
        } else {
          throw new UnreadableException("unknown XML attribute on a FHIR element");
        }
      }
      if (value != null) {
        if (!inArray) {
          out.comma();
          out.write(slot.key);
        }
        value(slot.kind, value);
      } else if (inArray) {
        out.write(NULL);
      }
      int mark = out.position();
      boolean open = false;
      if (id != null) {
        openSide(slot, inArray);
        open = true;
        out.write(ID_KEY);
        out.string(id);
      }
      boolean extensions = false;
      while (skipToElement() == XMLStreamConstants.START_ELEMENT) {
        enter();
        if (!in.getLocalName().equals("extension") || !FHIR_NS.equals(in.getNamespaceURI())) {
          throw new UnreadableException("unknown element in a FHIR XML primitive");
        }
        if (!open) {
          openSide(slot, inArray);
          open = true;
        }
        out.comma();
        if (!extensions) {
          out.write(shapes.primitiveExtension.key);
          out.write('[');
          extensions = true;
        }
        complex(requireNonNull(shapes.primitiveExtension.node));
        depth--;
      }
      if (extensions) {
        out.write(']');
      }
      if (open) {
        out.write('}');
      } else if (value == null) {
        throw new UnreadableException("FHIR XML primitive without a value or extension");
      }
      valueWritten = value != null; // after the extensions, whose own primitives set it too
      return inArray && open ? out.cut(mark) : null;
    }

    private void openSide(Slot slot, boolean inArray) throws UnreadableException {
      if (!inArray) {
        out.comma();
        out.write(slot.sideKey);
      }
      out.write('{');
    }

    private void value(Kind kind, String value) throws UnreadableException {
      switch (kind) {
        case STRING -> out.string(value);
        case BOOLEAN -> {
          if (!value.equals("true") && !value.equals("false")) {
            throw new UnreadableException("FHIR XML boolean that is not true or false");
          }
          out.ascii(value);
        }
        case INTEGER -> out.ascii(Integer.toString(XmlNumbers.integer(value)));
        case DECIMAL -> {
          if (!XmlNumbers.isJsonNumber(value)) {
            throw new UnreadableException("FHIR XML decimal that is not a number");
          }
          out.ascii(value); // its text exactly: FHIR keeps a decimal's precision
        }
        default -> throw new IllegalStateException("not a primitive: " + kind);
      }
    }

    /** At a complex element's start: writes it as a JSON object and consumes it. */
    private void complex(Node node) throws XMLStreamException, UnreadableException {
      out.write('{');
      attributes(node);
      members(node);
      out.write('}');
    }

    /** At a resource container's start ({@code contained}, {@code resource}, ...): writes its one resource. */
    private void container() throws XMLStreamException, UnreadableException {
      attributes(null);
      if (skipToElement() != XMLStreamConstants.START_ELEMENT) {
        throw new UnreadableException("FHIR XML resource container without a resource");
      }
      resourceElement();
      if (skipToElement() != XMLStreamConstants.END_ELEMENT) {
        throw new UnreadableException("FHIR XML resource container with more than one resource");
      }
    }

    /** At the narrative's XHTML {@code div}: writes it as a string of serialized XHTML. */
    private void xhtml() throws XMLStreamException, UnreadableException {
      xhtml.setLength(0);
      NarrativeXhtml.serialize(in, xhtml, depth, maxDepth);
      out.string(xhtml);
    }
  }

  /** DTDs have no place in FHIR XML and are the door to entity expansion: refuse them outright. */
  static boolean containsDoctype(byte[] xml) {
    for (int i = 1; i < xml.length; i++) {
      if (xml[i] == '!' && xml[i - 1] == '<' // '!' is the rarer byte: the branch is seldom taken
          && (regionMatchesIgnoreCase(xml, i - 1, DOCTYPE) || regionMatchesIgnoreCase(xml, i - 1, ENTITY))) {
        return true;
      }
    }
    return false;
  }

  private static boolean regionMatchesIgnoreCase(byte[] b, int at, byte[] lowerNeedle) {
    if (at + lowerNeedle.length > b.length) {
      return false;
    }
    for (int i = 0; i < lowerNeedle.length; i++) {
      int c = b[at + i];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lowerNeedle[i]) {
        return false;
      }
    }
    return true;
  }
}
