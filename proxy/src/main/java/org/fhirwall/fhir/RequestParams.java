package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The parameters of a request as {@link RequestParser} reads them: the rules on control parameters
 * (encoded or wrong-case names, duplicated single-valued ones, hand-made paging such as
 * {@code _getpages} or {@code _offset}, {@code _method} overrides, a {@code _summary} that is not
 * one of its five modes), {@code _format} and
 * {@code _pretty} taken out, a {@code POST _search} form body merged into the URL's parameters, and
 * an {@code If-None-Exist} header read as search parameters. Thread-safe and free of I/O.
 */
final class RequestParams {
  /** Lower-case names of paging parameters only fhirwall's own links may drive. */
  private static final Set<String> PAGING_PARAMS = Set.of("_getpages", "_getpagesoffset", "_pageid", "_offset", "_bundletype", "_fwpage");
  /** Control parameters HAPI reads one value of: a second one is refused rather than guessed at. */
  private static final Set<String> SINGLE_VALUED = Set.of("_count", "_format", "_pretty", "_summary", "_elements",
      "_sort", "_total", "_contained", "_containedType", "_since", "_at", "_type", "_query");
  private static final Set<String> KNOWN_CONTROLS = Set.of("_id", "_lastUpdated", "_tag", "_profile", "_security",
      "_text", "_content", "_list", "_has", "_include", "_revinclude", "_filter", "_source", "_language", "_count",
      "_format", "_pretty", "_summary", "_elements", "_sort", "_total", "_contained", "_containedType", "_since",
      "_at", "_type", "_query");

  /**
   * The search modifiers of FHIR R4 (and R5's {@code code-text}, {@code text-advanced}), exactly as written, with
   * {@code iterate}/{@code recurse} of {@code _include} and {@code exclude} of {@code _elements}. Any other modifier
   * but a resource type is refused: HAPI FHIR reads one it does not know, or a known one in another case
   * ({@code name:EXACT}, {@code _id:Missing}), as no modifier at all, and another server may read it otherwise.
   */
  private static final Set<String> KNOWN_MODIFIERS = Set.of("missing", "exact", "contains", "text", "not", "above",
      "below", "in", "not-in", "of-type", "identifier", "type", "code-text", "text-advanced", "iterate", "recurse",
      "exclude");

  /** The modes of {@code _summary} in FHIR R4 search, exactly as written. */
  private static final Set<String> SUMMARY_MODES = Set.of("true", "false", "text", "data", "count");

  private final ParserSettings settings;
  private final RequestPaths paths;
  private final Map<String, String> controlsByLowerCase;

  RequestParams(ParserSettings settings, RequestPaths paths) {
    this.settings = requireNonNull(settings, "settings");
    this.paths = requireNonNull(paths, "paths");
    Map<String, String> controls = new HashMap<>();
    for (String c : KNOWN_CONTROLS) {
      controls.put(c.toLowerCase(Locale.ROOT), c);
    }
    this.controlsByLowerCase = Map.copyOf(controls);
  }

  static void noParams(List<QueryParam> params, Interaction interaction) {
    if (!params.isEmpty()) {
      throw Refused.invalid("A " + interaction.code() + " takes no parameters besides _format and _pretty");
    }
  }

  static boolean hasParamIgnoringCase(List<QueryParam> params, String name) {
    for (QueryParam p : params) {
      if (p.name().equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  List<QueryParam> mergeForm(List<QueryParam> urlParams, byte[] raw, @Nullable String contentType) {
    if (raw.length == 0) {
      return urlParams;
    }
    if (RequestBodies.kindOf(contentType) != RequestBodies.Kind.FORM) {
      throw RequestBodies.unsupported("POST _search takes an application/x-www-form-urlencoded body");
    }
    // Latin-1 keeps every byte as one char, so a raw non-ASCII byte is refused by the codec.
    List<QueryParam> form = QueryCodec.parse(new String(raw, StandardCharsets.ISO_8859_1), "form body", settings);
    Set<String> urlNames = new HashSet<>();
    for (QueryParam p : urlParams) {
      urlNames.add(p.name());
    }
    for (QueryParam p : form) {
      if (urlNames.contains(p.name())) {
        throw Refused.invalid("Parameter '" + p.name() + "' is given both in the URL and in the form body");
      }
    }
    List<QueryParam> merged = new ArrayList<>(urlParams.size() + form.size());
    merged.addAll(urlParams);
    merged.addAll(form);
    if (merged.size() > settings.maxParams()) {
      throw Refused.of(400, IssueType.TOO_COSTLY, "More than " + settings.maxParams() + " parameters");
    }
    return merged;
  }

  record Controls(List<QueryParam> params, @Nullable Format format, boolean pretty, boolean formatOrPrettyGiven) {}

  /** Applies the rules on control parameters and takes {@code _format} and {@code _pretty} out. */
  Controls controls(List<QueryParam> params) {
    List<QueryParam> kept = new ArrayList<>(params.size());
    Set<String> seen = new HashSet<>();
    Format format = null;
    boolean pretty = false;
    boolean given = false;
    for (QueryParam p : params) {
      String name = p.name();
      String base = p.baseName();
      String baseLower = base.toLowerCase(Locale.ROOT);
      if (PAGING_PARAMS.contains(baseLower)) {
        throw Refused.of(403, IssueType.FORBIDDEN, "Hand-made paging parameters (_getpages, _getpagesoffset, _pageId, "
            + "_offset, _bundletype, _fwpage) are refused; follow the paging links fhirwall returns");
      }
      if (baseLower.equals("access_token")) {
        throw Refused.invalid("Access tokens are accepted in the Authorization header only, never in the URL or a form "
            + "(RFC 6750 §2.1; a URL ends up in logs)");
      }
      if (baseLower.equals("_method")) {
        throw Refused.invalid("The _method parameter is refused; send the real HTTP method");
      }
      String known = controlsByLowerCase.get(baseLower);
      if (known != null && !known.equals(base)) {
        throw Refused.invalid("Parameter names are case-sensitive (expected " + known + ")");
      }
      checkModifiers(name);
      if (SINGLE_VALUED.contains(base)) {
        if (!name.equals(base) && !name.equals("_elements:exclude")) {
          throw Refused.invalid("Modifiers are not accepted on " + base);
        }
        if (!seen.add(name)) {
          throw Refused.invalid(name + " is given more than once");
        }
      }
      if (name.equals("_format")) {
        format = RequestHeaders.formatOf(p.value());
        if (format == null) {
          throw Refused.invalid("Unsupported _format (expected json, xml or ndjson, or their FHIR media types)");
        }
        given = true;
      } else if (name.equals("_summary") && !SUMMARY_MODES.contains(p.value())) {
        // HAPI reads _summary case-insensitively and as a comma list (TEXT, foo,text): a mode fhirwall does not see as
        // one would reach the EPR, whose summary drops the references that name patients before fhirwall reads them.
        throw Refused.invalid("_summary must be one of true, false, text, data or count (one value, lower case)");
      } else if (name.equals("_pretty")) {
        if (!p.value().equals("true") && !p.value().equals("false")) {
          throw Refused.invalid("_pretty must be true or false");
        }
        pretty = p.value().equals("true");
        given = true;
      } else {
        kept.add(p);
      }
    }
    return new Controls(kept, format, pretty, given);
  }

  /**
   * Refuses a parameter name with a modifier that is neither a {@link #KNOWN_MODIFIERS known one} nor an R4 resource
   * type ({@code subject:Patient}), in the parameter or in any link of its chain ({@code subject:Patient.name:exact}).
   * A reverse chain is read link by link: {@code _has:Observation:patient:code:exact} names an R4 type exactly as
   * written, a plain reference parameter, and a parameter held to this same rule (its modifier, its chain, or another
   * {@code _has}). HAPI FHIR 8.8's JPA server refuses any modifier at a reverse chain's end (HAPI-1209), but another
   * server may read an odd one as it reads one elsewhere: as none at all.
   */
  private void checkModifiers(String name) {
    String rest = name;
    while (rest.startsWith("_has:")) {
      rest = hasTail(rest);
    }
    for (String link : rest.split("\\.", -1)) {
      int colon = link.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String modifier = link.substring(colon + 1);
      if (!KNOWN_MODIFIERS.contains(modifier) && !paths.isResourceType(modifier)) {
        throw Refused.invalid("Unknown search modifier on " + link.substring(0, colon) + " (expected one of FHIR's "
            + "modifiers in lower case, such as :exact, :missing or :not, or a resource type such as :Patient)");
      }
    }
  }

  /** The parameter of {@code _has:Type:reference:parameter}, once its type and reference parameter are checked. */
  private String hasTail(String name) {
    int typeEnd = name.indexOf(':', "_has:".length());
    int referenceEnd = typeEnd < 0 ? -1 : name.indexOf(':', typeEnd + 1);
    if (referenceEnd < 0 || referenceEnd == name.length() - 1) {
      throw Refused.invalid("A reverse chain is written _has:Type:reference:parameter (e.g. _has:Observation:patient:code)");
    }
    if (!paths.isResourceType(name.substring("_has:".length(), typeEnd))) {
      throw Refused.invalid("A reverse chain (_has) must name an R4 resource type, exactly as written (e.g. "
          + "_has:Observation:patient:code)");
    }
    String reference = name.substring(typeEnd + 1, referenceEnd);
    if (reference.isEmpty() || reference.indexOf('.') >= 0) {
      throw Refused.invalid("A reverse chain (_has) must name a reference parameter of its type, without modifier or "
          + "chain (e.g. _has:Observation:patient:code)");
    }
    return name.substring(referenceEnd + 1);
  }

  List<QueryParam> ifNoneExist(String header, String type) {
    String v = header;
    if (v.startsWith("?")) {
      v = v.substring(1);
    } else {
      int q = v.indexOf('?');
      if (q > 0 && RequestPaths.TYPE_LIKE.matcher(v.substring(0, q)).matches()) {
        if (!v.substring(0, q).equals(type)) {
          throw Refused.invalid("If-None-Exist names another resource type than the create");
        }
        v = v.substring(q + 1);
      }
    }
    return matchCriteria(v, "If-None-Exist header");
  }

  /**
   * The criteria of a search the EPR runs to match records ({@code If-None-Exist}, a conditional reference in a body):
   * read like a query string, with the rules on control parameters and modifiers; search parameters only, at least one.
   */
  List<QueryParam> matchCriteria(String query, String where) {
    paths.checkTarget(query, where);
    Controls c = controls(QueryCodec.parse(query, where, settings));
    if (c.formatOrPrettyGiven() || c.params().isEmpty()) {
      throw Refused.invalid("The " + where + " must hold search parameters only, at least one");
    }
    return c.params();
  }
}
