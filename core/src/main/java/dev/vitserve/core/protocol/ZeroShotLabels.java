package dev.vitserve.core.protocol;

import dev.vitserve.core.http.ApiException;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;

/**
 * The texts of a zero-shot request, whichever door it came through: {@code candidate_labels} and
 * {@code hypothesis_template} (default Hugging Face's {@code "This is a photo of {}."}), each label put in the
 * template as Python's {@code str.format} does, within the limits every door answers 4xx for.
 *
 * @param labels the labels, in the request's order
 * @param template the template
 * @param texts each label in the template: what the text tower runs on, and the text embedding cache's key
 */
public record ZeroShotLabels(List<String> labels, String template, List<String> texts) {

    public static final String LABELS = "candidate_labels";
    public static final String TEMPLATE = "hypothesis_template";
    public static final String DEFAULT_TEMPLATE = "This is a photo of {}.";
    /** The most labels one request may score. */
    public static final int MAX_LABELS = 100;
    /** The longest label, in characters (UTF-16 units); the tokenizer truncates long texts anyway. */
    public static final int MAX_LABEL_CHARS = 300;
    public static final int MAX_TEMPLATE_CHARS = 300;
    /** The most texts one text-embedding request may embed. */
    public static final int MAX_TEXTS = MAX_LABELS;

    /**
     * The labels in the template, both checked.
     *
     * @param labels at least one label
     * @param template the template, or null for the default
     * @throws ApiException 400 or 413 naming the problem
     */
    public static ZeroShotLabels of(List<String> labels, String template) {
        if (labels.isEmpty()) {
            throw ApiException.badRequest("no_labels", LABELS + " is empty: give at least one label");
        }
        checked(labels, LABELS, MAX_LABELS);
        String checkedTemplate = template(template);
        return new ZeroShotLabels(List.copyOf(labels), checkedTemplate,
                labels.stream().map(label -> fill(checkedTemplate, label)).toList());
    }

    /**
     * The labels of a JSON value: a list of strings, or one string as one label.
     *
     * @throws ApiException 400 or 413 naming the problem
     */
    public static List<String> jsonLabels(Object value) {
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

    /** The strings of a JSON list, at most {@code max}, each within the label's length. */
    public static List<String> strings(JsonArray array, String key, int max) {
        if (array.size() > max) {
            throw tooMany(key, array.size(), max);
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

    /**
     * Texts to embed as they are (no template), within the limits of labels.
     *
     * @throws ApiException 400 or 413 naming the problem
     */
    public static List<String> texts(List<String> texts, String key) {
        if (texts.isEmpty()) {
            throw ApiException.badRequest("no_texts", key + " is empty: give at least one text");
        }
        return checked(texts, key, MAX_TEXTS);
    }

    private static ApiException tooMany(String key, int count, int max) {
        return ApiException.tooLarge("too_many_labels", key + " holds " + count + " entries; this server takes"
                + " at most " + max + " per request");
    }

    private static List<String> checked(List<String> list, String key, int max) {
        if (list.size() > max) {
            throw tooMany(key, list.size(), max);
        }
        for (String text : list) {
            if (text.length() > MAX_LABEL_CHARS) {
                throw ApiException.tooLarge("label_too_long", "an entry of " + key + " is " + text.length()
                        + " characters long; this server takes at most " + MAX_LABEL_CHARS);
            }
        }
        return list;
    }

    private static String template(String template) {
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

    /**
     * The template with the label in place of each {@code {}} (or {@code {0}}), {@code {{} and {@code }}} standing
     * for braces, as {@code template.format(label)} does in Python.
     *
     * @throws ApiException 400 for a template Python would refuse, or one without a place for the label
     */
    public static String fill(String template, String label) {
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
