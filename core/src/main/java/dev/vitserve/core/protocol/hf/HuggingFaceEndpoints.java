package dev.vitserve.core.protocol.hf;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.http.RequestImage;
import dev.vitserve.core.inference.Classification;
import dev.vitserve.core.inference.Postprocessor.Prediction;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.protocol.ModelLookup;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;

/**
 * Hugging Face Inference Endpoints' image-classification contract: {@code POST /} (the default
 * model) and {@code POST /models/{name}} take a raw image body (any or no Content-Type) or JSON
 * {@code {"inputs": "<base64 or URL>", "parameters": {"top_k", "function_to_apply"}}} and answer
 * {@code [{"label", "score"}]} best first, top 5 by default, through the same pipeline as
 * {@code /v1/classify}.
 */
public final class HuggingFaceEndpoints {

    private static final int DEFAULT_TOP_K = 5;

    private final ModelLookup models;
    private final ImageRequestReader reader;

    public HuggingFaceEndpoints(ModelLookup models, ImageRequestReader reader) {
        this.models = models;
        this.reader = reader;
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
        Future<Classification> classified;
        try {
            classified = models.require(name).use(serving -> reader.read(ctx)
                    .map(HuggingFaceEndpoints::single)
                    .compose(image -> {
                        // after the read: a JSON body's parameters come from the object it parsed
                        Parameters parameters = parameters(ctx, serving.model().defaultFunction());
                        return serving.pipeline().classify(image.bytes(), parameters.topK(), parameters.function(),
                                start);
                    }));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        classified.onSuccess(result -> ctx.response().putHeader("Content-Type", "application/json")
                        .end(answer(result.predictions()).encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
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
