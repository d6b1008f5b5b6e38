package dev.vitserve.core.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The texts of a zero-shot request: {@code candidate_labels} (a JSON list in a JSON body, or repeated query or
 * multipart form fields) and {@code hypothesis_template} (default Hugging Face's {@code "This is a photo of {}."}),
 * each label put in the template as Python's {@code str.format} does, within limits that answer 4xx.
 *
 * @param labels the labels, in the request's order
 * @param template the template
 * @param texts each label in the template
 */
record ZeroShotRequest(List<String> labels, String template, List<String> texts) {

    static final String LABELS = "candidate_labels";
    static final String TEMPLATE = "hypothesis_template";
    static final String DEFAULT_TEMPLATE = "This is a photo of {}.";
    /** The most labels one request may score. */
    static final int MAX_LABELS = 100;
    /** The longest label, in characters (UTF-16 units); the tokenizer truncates long texts anyway. */
    static final int MAX_LABEL_CHARS = 300;
    static final int MAX_TEMPLATE_CHARS = 300;
    /** The most texts one embed-text request may embed. */
    static final int MAX_TEXTS = MAX_LABELS;

    /**
     * Reads the request's labels and template from wherever they are.
     *
     * @param body the JSON body's object, or null when the body is not JSON
     * @throws ApiException 400 or 413 naming the problem
     */
    static ZeroShotRequest of(RoutingContext ctx, JsonObject body) {
        List<String> fromQuery = ctx.queryParams().getAll(LABELS);
        List<String> fromForm = ctx.request().isExpectMultipart() ? ctx.request().formAttributes().getAll(LABELS)
                : List.of();
        List<String> fromJson = body != null && body.containsKey(LABELS) ? jsonLabels(body.getValue(LABELS)) : List.of();
        int sources = (fromQuery.isEmpty() ? 0 : 1) + (fromForm.isEmpty() ? 0 : 1) + (fromJson.isEmpty() ? 0 : 1);
        if (sources == 0) {
            throw ApiException.badRequest("no_labels", "give the labels to score as " + LABELS + ": a JSON list"
                    + " {\"" + LABELS + "\": [\"cat\", \"dog\"]}, or repeated query or form fields " + LABELS + "=cat&"
                    + LABELS + "=dog");
        }
        if (sources > 1) {
            throw ApiException.badRequest("invalid_parameter", LABELS + " is given in more than one place (query,"
                    + " form, JSON body): give it in one");
        }
        List<String> labels = !fromQuery.isEmpty() ? fromQuery : !fromForm.isEmpty() ? fromForm : fromJson;
        String template = template(ctx, body);
        return new ZeroShotRequest(List.copyOf(labels), template, texts(labels, template));
    }

    /** The texts of an embed-text request: {@code {"texts": [...]}}, within the limits of labels. */
    static List<String> texts(JsonObject body) {
        Object texts = body.getValue("texts");
        if (!(texts instanceof JsonArray array) || array.isEmpty()) {
            throw ApiException.badRequest("no_texts", "give the texts to embed as {\"texts\": [\"a photo of a cat\"]}");
        }
        List<String> list = strings(array, "texts", MAX_TEXTS);
        return list;
    }

    private static List<String> jsonLabels(Object value) {
        if (value instanceof String single) {
            return checked(List.of(single), LABELS, MAX_LABELS);
        }
        if (!(value instanceof JsonArray array)) {
            throw ApiException.badRequest("invalid_parameter", LABELS + " must be a list of strings");
        }
        if (array.isEmpty()) {
            throw ApiException.badRequest("no_labels", LABELS + " is empty: give at least one label");
        }
        return strings(array, LABELS, MAX_LABELS);
    }

    private static List<String> strings(JsonArray array, String key, int max) {
        if (array.size() > max) {
            throw ApiException.tooLarge("too_many_labels", key + " holds " + array.size() + " entries; this server takes"
                    + " at most " + max + " per request");
        }
        List<String> list = new ArrayList<>(array.size());
        for (Object item : array) {
            if (!(item instanceof String text)) {
                throw ApiException.badRequest("invalid_parameter", key + " must be a list of strings, got " + item);
            }
            list.add(text);
        }
        return checked(list, key, max);
    }

    private static List<String> checked(List<String> list, String key, int max) {
        if (list.size() > max) {
            throw ApiException.tooLarge("too_many_labels", key + " holds " + list.size() + " entries; this server takes"
                    + " at most " + max + " per request");
        }
        for (String text : list) {
            if (text.length() > MAX_LABEL_CHARS) {
                throw ApiException.tooLarge("label_too_long", "an entry of " + key + " is " + text.length()
                        + " characters long; this server takes at most " + MAX_LABEL_CHARS);
            }
        }
        return list;
    }

    private static String template(RoutingContext ctx, JsonObject body) {
        String template = ctx.queryParams().get(TEMPLATE);
        if (template == null && ctx.request().isExpectMultipart()) {
            template = ctx.request().formAttributes().get(TEMPLATE);
        }
        if (template == null && body != null && body.getValue(TEMPLATE) != null) {
            if (!(body.getValue(TEMPLATE) instanceof String text)) {
                throw ApiException.badRequest("invalid_template", TEMPLATE + " must be a string");
            }
            template = text;
        }
        if (template == null) {
            return DEFAULT_TEMPLATE;
        }
        if (template.length() > MAX_TEMPLATE_CHARS) {
            throw ApiException.tooLarge("template_too_long", TEMPLATE + " is " + template.length()
                    + " characters long; this server takes at most " + MAX_TEMPLATE_CHARS);
        }
        fill(template, "");
        return template;
    }

    private static List<String> texts(List<String> labels, String template) {
        return labels.stream().map(label -> fill(template, label)).toList();
    }

    /**
     * The template with the label in place of each {@code {}} (or {@code {0}}), {@code {{} and {@code }}} standing
     * for braces, as {@code template.format(label)} does in Python.
     *
     * @throws ApiException 400 for a template Python would refuse, or one without a place for the label
     */
    static String fill(String template, String label) {
        StringBuilder text = new StringBuilder(template.length() + label.length());
        int places = 0;
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '{' && template.startsWith("{{", i)) {
                text.append('{');
                i++;
            } else if (c == '}' && template.startsWith("}}", i)) {
                text.append('}');
                i++;
            } else if (c == '{' && (template.startsWith("{}", i) || template.startsWith("{0}", i))) {
                text.append(label);
                i += template.charAt(i + 1) == '}' ? 1 : 2;
                places++;
            } else if (c == '{' || c == '}') {
                throw ApiException.badRequest("invalid_template", TEMPLATE + " '" + template + "' has a brace that is"
                        + " not {} (where the label goes), {{ or }}");
            } else {
                text.append(c);
            }
        }
        if (places == 0) {
            throw ApiException.badRequest("invalid_template", TEMPLATE + " '" + template + "' has no {} where the"
                    + " label goes");
        }
        return text.toString();
    }
}
