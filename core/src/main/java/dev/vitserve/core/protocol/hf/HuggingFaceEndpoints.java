package dev.vitserve.core.protocol.hf;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.Door;
import dev.vitserve.core.http.DoorRoutes;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.http.RequestImage;
import dev.vitserve.core.inference.Postprocessor.Prediction;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.inference.Embedding;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.model.Task;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.ZeroShot;
import dev.vitserve.core.protocol.ZeroShotLabels;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;

/**
 * Hugging Face Inference Endpoints' image-classification contract: {@code POST /} (the default
 * model) and {@code POST /models/{name}} take a raw image body (any or no Content-Type) or JSON
 * {@code {"inputs": "<base64 or URL>", "parameters": {"top_k", "function_to_apply"}}} and answer
 * {@code [{"label", "score"}]} best first, top 5 by default, through the same pipeline as
 * {@code /v1/classify}. A zero-shot model (CLIP) answers the zero-shot-image-classification contract instead: the
 * labels in {@code parameters}, every label scored ({@link #zeroShot}).
 */
public final class HuggingFaceEndpoints implements Door {

    private static final int DEFAULT_TOP_K = 5;

    private final ModelLookup models;
    private final ImageRequestReader reader;

    public HuggingFaceEndpoints(ModelLookup models, ImageRequestReader reader) {
        this.models = models;
        this.reader = reader;
    }

    @Override
    public void mount(Router router, DoorRoutes routes) {
        routes.readsRaw(router.post("/").handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::classifyDefault);
        routes.readsRaw(router.postWithRegex("^/models/(?<name>.+)$").setName("/models/{name}")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::classifyNamed);
    }

    /** {@code POST /}: the default model. */
    public void classifyDefault(RoutingContext ctx) {
        classify(ctx, models.defaultName());
    }

    /** {@code POST /models/{name}}, the name in the path parameter {@code name} (it may contain '/'). */
    public void classifyNamed(RoutingContext ctx) {
        classify(ctx, ctx.pathParam(ModelLookup.NAME));
    }

    private record Parameters(int topK, ScoreFunction function) {
    }

    private void classify(RoutingContext ctx, String name) {
        long start = System.nanoTime();
        Future<JsonArray> answered;
        try {
            answered = models.require(name).use(serving -> serving.task() == Task.ZERO_SHOT_IMAGE_CLASSIFICATION
                    ? zeroShot(ctx, serving, start)
                    : reader.read(ctx)
                    .map(HuggingFaceEndpoints::single)
                    .compose(image -> {
                        // after the read: a JSON body's parameters come from the object it parsed
                        Parameters parameters = parameters(ctx, serving.model().defaultFunction());
                        return serving.pipeline().classify(image.bytes(), parameters.topK(), parameters.function(),
                                start);
                    })
                    .map(result -> answer(result.predictions())));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(answer -> ctx.response().putHeader("Content-Type", "application/json").end(answer.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    /**
     * The zero-shot-image-classification pipeline's contract: {@code {"inputs": <base64 or url>} or
     * {@code {"inputs": {"image": ...}}}, with {@code "parameters": {"candidate_labels": [...],
     * "hypothesis_template": ...}} (or, for a raw image body, the query's {@code candidate_labels} and
     * {@code hypothesis_template}); answers every label {@code [{label, score}]}, best first, through the same
     * zero-shot path as {@code /v1/models/{name}/zero-shot}.
     */
    private Future<JsonArray> zeroShot(RoutingContext ctx, ServingModel serving, long start) {
        ZeroShot.requireText(serving, "zero-shot classification");
        return reader.read(ctx).map(HuggingFaceEndpoints::single).compose(image -> {
            ZeroShotLabels labels = labels(ctx);
            Future<List<Embedding>> embedded = serving.pipeline().embed(image.bytes(), null, false, start)
                    .map(List::of);
            return ZeroShot.score(serving, labels, embedded, Embedding::vector).map(scored -> {
                JsonArray answer = new JsonArray();
                for (ZeroShotScores.Scored label : scored.images().get(0).ranked()) {
                    answer.add(new JsonObject().put("label", label.label()).put("score", label.score()));
                }
                return answer;
            });
        });
    }

    /** The labels and template of {@code parameters}, else of the query string. */
    private static ZeroShotLabels labels(RoutingContext ctx) {
        JsonObject given = jsonParameters(ctx);
        if (given != null) {
            Object labels = given.getValue(ZeroShotLabels.LABELS);
            Object template = given.getValue(ZeroShotLabels.TEMPLATE);
            if (labels == null) {
                throw ApiException.badRequest("no_labels", "give the labels to score as \"parameters\": {\""
                        + ZeroShotLabels.LABELS + "\": [\"cat\", \"dog\"]}");
            }
            if (template != null && !(template instanceof String)) {
                throw ApiException.badRequest("invalid_template", ZeroShotLabels.TEMPLATE + " must be a string");
            }
            return ZeroShotLabels.of(ZeroShotLabels.jsonLabels(labels), (String) template);
        }
        List<String> labels = ctx.queryParams().getAll(ZeroShotLabels.LABELS);
        if (labels.isEmpty()) {
            throw ApiException.badRequest("no_labels", "give the labels to score as JSON {\"inputs\": \"<base64 image>\","
                    + " \"parameters\": {\"" + ZeroShotLabels.LABELS + "\": [\"cat\", \"dog\"]}}, or with a raw image"
                    + " body as repeated query fields " + ZeroShotLabels.LABELS + "=cat&" + ZeroShotLabels.LABELS + "=dog");
        }
        return ZeroShotLabels.of(labels, ctx.queryParams().get(ZeroShotLabels.TEMPLATE));
    }

    private static RequestImage single(List<RequestImage> images) {
        if (images.size() != 1) {
            throw ApiException.badRequest("invalid_parameter", "send one image per request; this one holds " + images.size());
        }
        return images.get(0);
    }

    private static JsonArray answer(List<Prediction> predictions) {
        JsonArray answer = new JsonArray();
        for (Prediction p : predictions) {
            answer.add(new JsonObject().put("label", p.label()).put("score", p.score()));
        }
        return answer;
    }

    /** {@code parameters} of a JSON body, else the query string's {@code top_k} and {@code function_to_apply}. */
    private static Parameters parameters(RoutingContext ctx, ScoreFunction fallback) {
        Object topK = ctx.request().getParam("top_k");
        Object function = ctx.request().getParam("function_to_apply");
        JsonObject given = jsonParameters(ctx);
        if (given != null) {
            topK = given.getValue("top_k");
            function = given.getValue("function_to_apply");
        }
        return new Parameters(topK(topK), function(function, fallback));
    }

    /** The {@code parameters} of the JSON body {@link ImageRequestReader} parsed, if there is one. */
    private static JsonObject jsonParameters(RoutingContext ctx) {
        JsonObject body = ctx.get(ImageRequestReader.JSON_BODY);
        Object parameters = body == null ? null : body.getValue("parameters");
        if (parameters == null) {
            return null;
        }
        if (!(parameters instanceof JsonObject object)) {
            throw ApiException.badRequest("invalid_parameter", "\"parameters\" must be a JSON object");
        }
        return object;
    }

    private static int topK(Object value) {
        if (value == null) {
            return DEFAULT_TOP_K;
        }
        String text = value.toString().trim();
        if (text.matches("\\d{1,9}") && Integer.parseInt(text) >= 1) {
            return Integer.parseInt(text);
        }
        if (text.matches("\\d{10,}")) {
            return Integer.MAX_VALUE;
        }
        throw ApiException.badRequest("invalid_parameter", "top_k must be a whole number of at least 1, got '" + text + "'");
    }

    private static ScoreFunction function(Object value, ScoreFunction fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            return ScoreFunction.parse(value.toString());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_parameter", "function_to_apply must be softmax, sigmoid or none, got '"
                    + value + "'");
        }
    }
}
