package dev.vitserve.core.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The paths a listener serves and their methods, read from its OpenAPI description (which the OpenAPI
 * tests hold to the routes), plus the web page's files: what a wrong-method request is told in
 * {@code Allow}, and what tells a wrong method on a known path (405) from an unknown path (404).
 */
final class KnownPaths {

    private static final Set<String> METHODS = Set.of("get", "head", "post", "put", "delete", "patch", "options");
    private static final Pattern PAGE_FILE = Pattern.compile("^/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$");

    /** A path template's pattern, methods, and how many of its characters are literal (not a parameter). */
    private record Known(Pattern path, Set<String> methods, int literal) {
    }

    private final List<Known> known = new ArrayList<>();
    private final String webroot;

    /** The paths of {@code openApi}; with a {@code webroot} (a classpath folder), its files too, for GET and HEAD. */
    KnownPaths(Buffer openApi, String webroot) {
        this.webroot = webroot;
        JsonObject paths = new JsonObject(openApi).getJsonObject("paths");
        for (String template : paths.fieldNames()) {
            Set<String> methods = new TreeSet<>();
            for (String method : paths.getJsonObject(template).fieldNames()) {
                if (METHODS.contains(method)) {
                    methods.add(method.toUpperCase(Locale.ROOT));
                }
            }
            known.add(new Known(pattern(template), methods, template.replaceAll("\\{[^}]*\\}", "").length()));
        }
    }

    /** {@code /v1/models/{name}/classify} as a pattern: a model's name may hold '/', a version does not. */
    private static Pattern pattern(String template) {
        StringBuilder regex = new StringBuilder("^");
        for (String piece : template.split("(?=\\{)|(?<=\\})")) {
            if (piece.equals("{name}")) {
                regex.append(".+");
            } else if (piece.startsWith("{")) {
                regex.append("[^/]+");
            } else {
                regex.append(Pattern.quote(piece));
            }
        }
        return Pattern.compile(regex.append("/?$").toString());
    }

    /**
     * The methods served on {@code path}, sorted; empty for a path this listener does not serve. Of the templates
     * it matches, the most literal wins: {@code /v1/models/a/classify} is the classify route's path, not a model
     * named {@code a/classify}.
     */
    Set<String> allowed(String path) {
        Set<String> methods = new TreeSet<>();
        int best = -1;
        for (Known entry : known) {
            if (entry.path().matcher(path).matches() && entry.literal() >= best) {
                if (entry.literal() > best) {
                    methods.clear();
                    best = entry.literal();
                }
                methods.addAll(entry.methods());
            }
        }
        if (webroot != null && isPageFile(path)) {
            methods.add("GET");
            methods.add("HEAD");
        }
        return methods;
    }

    private boolean isPageFile(String path) {
        if (path.equals("/")) {
            return true;
        }
        return PAGE_FILE.matcher(path).matches()
                && KnownPaths.class.getClassLoader().getResource(webroot + path) != null;
    }
}
