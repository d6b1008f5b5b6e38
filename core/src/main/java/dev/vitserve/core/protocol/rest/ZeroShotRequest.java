package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.protocol.ZeroShotLabels;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Where vitserve's own zero-shot route finds a request's texts: {@code candidate_labels} as a JSON list in a JSON body,
 * or repeated query or multipart form fields, and {@code hypothesis_template} in the query, the form or the body;
 * {@link ZeroShotLabels} checks them as every door does.
 */
final class ZeroShotRequest {

    static final String LABELS = ZeroShotLabels.LABELS;
    static final String TEMPLATE = ZeroShotLabels.TEMPLATE;
    static final String DEFAULT_TEMPLATE = ZeroShotLabels.DEFAULT_TEMPLATE;

    private ZeroShotRequest() {
    }

    /**
     * Reads the request's labels and template from wherever they are.
     *
     * @param body the JSON body's object, or null when the body is not JSON
     * @throws ApiException 400 or 413 naming the problem
     */
    static ZeroShotLabels of(RoutingContext ctx, JsonObject body) {
        List<String> fromQuery = ctx.queryParams().getAll(LABELS);
        List<String> fromForm = ctx.request().isExpectMultipart() ? ctx.request().formAttributes().getAll(LABELS)
                : List.of();
        List<String> fromJson = body != null && body.containsKey(LABELS) ? ZeroShotLabels.jsonLabels(body.getValue(LABELS))
                : List.of();
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
        return ZeroShotLabels.of(labels, template(ctx, body));
    }

    /** The texts of an embed-text request: {@code {"texts": [...]}}, within the limits of labels. */
    static List<String> texts(JsonObject body) {
        Object texts = body.getValue("texts");
        if (!(texts instanceof JsonArray array) || array.isEmpty()) {
            throw ApiException.badRequest("no_texts", "give the texts to embed as {\"texts\": [\"a photo of a cat\"]}");
        }
        return ZeroShotLabels.strings(array, "texts", ZeroShotLabels.MAX_TEXTS);
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
        return template;
    }

    /** {@link ZeroShotLabels#fill}. */
    static String fill(String template, String label) {
        return ZeroShotLabels.fill(template, label);
    }
}
