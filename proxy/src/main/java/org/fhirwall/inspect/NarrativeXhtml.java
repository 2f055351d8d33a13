package org.fhirwall.inspect;

import java.util.Locale;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * A narrative's XHTML {@code div}, read from StAX and written back as the string FHIR JSON
 * carries, the way HAPI FHIR writes it: the XHTML namespace declared on the {@code div}, empty
 * elements as {@code <br/>}, {@code & < > "} as entity references, characters beyond the BMP as
 * character references, comments kept, processing instructions dropped. Elements outside the
 * XHTML namespace and nesting deeper than allowed are unreadable. Stateless.
 */
final class NarrativeXhtml {
  private NarrativeXhtml() {}

  /**
   * With {@code in} at the {@code div}'s start element: appends the serialized XHTML to
   * {@code sb} and leaves {@code in} at the {@code div}'s end element.
   *
   * @param depth the {@code div}'s depth in the document (the root element's is 1)
   * @param maxDepth the deepest an element may be
   */
  static void serialize(XMLStreamReader in, StringBuilder sb, int depth, int maxDepth)
      throws XMLStreamException, UnreadableException {
    element(in, sb, true, depth, maxDepth);
  }

  private static void element(XMLStreamReader in, StringBuilder sb, boolean root, int depth, int maxDepth)
      throws XMLStreamException, UnreadableException {
    String name = in.getLocalName();
    sb.append('<').append(name);
    if (root) {
      sb.append(" xmlns=\"").append(XmlToJson.XHTML_NS).append('"');
    }
    int count = in.getAttributeCount();
    for (int i = 0; i < count; i++) {
      String prefix = in.getAttributePrefix(i);
      sb.append(' ');
      if (prefix != null && !prefix.isEmpty()) {
        sb.append(prefix).append(':');
      }
      sb.append(in.getAttributeLocalName(i)).append("=\"");
      String value = in.getAttributeValue(i);
      escape(sb, value.toCharArray(), 0, value.length());
      sb.append('"');
    }
    int open = sb.length();
    sb.append('>');
    boolean content = false;
    while (true) {
      switch (in.next()) {
        case XMLStreamConstants.START_ELEMENT -> {
          if (!XmlToJson.XHTML_NS.equals(in.getNamespaceURI())) {
            throw new UnreadableException("non-XHTML element in a FHIR narrative");
          }
          if (depth + 1 > maxDepth) {
            throw new UnreadableException("XML nesting deeper than " + maxDepth);
          }
          element(in, sb, false, depth + 1, maxDepth);
          content = true;
        }
        case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> {
          escape(sb, in.getTextCharacters(), in.getTextStart(), in.getTextLength());
          content |= in.getTextLength() > 0;
        }
        case XMLStreamConstants.COMMENT -> {
          sb.append("<!--").append(in.getText()).append("-->");
          content = true;
        }
        case XMLStreamConstants.PROCESSING_INSTRUCTION -> { }
        case XMLStreamConstants.END_ELEMENT -> {
          if (content) {
            sb.append("</").append(name).append('>');
          } else {
            sb.setLength(open);
            sb.append("/>");
          }
          return;
        }
        default -> throw new UnreadableException("unexpected XML in a FHIR narrative");
      }
    }
  }

  private static void escape(StringBuilder sb, char[] text, int start, int length) {
    int end = start + length;
    for (int i = start; i < end; i++) {
      char c = text[i];
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1])) {
            sb.append("&#x").append(Integer.toHexString(Character.toCodePoint(c, text[++i])).toUpperCase(Locale.ROOT))
                .append(';');
          } else {
            sb.append(c);
          }
        }
      }
    }
  }
}
