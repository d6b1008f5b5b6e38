package dev.vitserve.core.http;

import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Classification;
import dev.vitserve.core.inference.Postprocessor.Prediction;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /v1/models/{name}/classify} and {@code POST /v1/classify} (the default model, or
 * {@code ?model=NAME}): every image of the request, classified, in order.
 */
final class ClassifyHandler implements Handler<RoutingContext> {

    static final int DEFAULT_TOP_K = 5;

    private final ModelLookup models;
    private final ImageRequestReader reader;
    private final long maxRequestPixels;

    /** A handler reading images with {@code reader}, all of a request's images together at most {@code maxRequestPixels}. */
    ClassifyHandler(ModelLookup models, ImageRequestReader reader, long maxRequestPixels) {
        this.models = models;
        this.reader = reader;
        this.maxRequestPixels = maxRequestPixels;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        Future<JsonObject> answered;
        try {
            ModelEntry entry = models.require(ctx);
            int topK = topK(ctx);
            answered = entry.use(serving -> {
                ScoreFunction function = function(ctx, serving.model().defaultFunction());
                return reader.read(ctx)
                        .compose(images -> classifyAll(serving, images, new RequestPixels(maxRequestPixels), topK,
                                function, start))
                        .map(results -> answer(serving, results));
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private record Named(String name, Classification classification) {
    }

    static Future<List<Named>> classifyAll(ServingModel serving, List<RequestImage> images, RequestPixels pixels,
                                           int topK, ScoreFunction function, long start) {
        long announced = 0;
        for (RequestImage image : images) {
            announced += serving.pipeline().announcedPixels(image.bytes());
        }
        try {
            pixels.checkAnnounced(announced);
        } catch (ImageDecodeException e) {
            return Future.failedFuture(e);
        }
        List<Future<Named>> results = new ArrayList<>();
        for (RequestImage image : images) {
            results.add(serving.pipeline().classify(image.bytes(), pixels, topK, function, start)
                    .map(classification -> new Named(image.name(), classification))
                    .recover(failure -> {
                        ApiException known = ErrorResponses.fromFailure(failure);
                        return Future.failedFuture(known != null && images.size() > 1 ? known.about(image.name()) : failure);
                    }));
        }
        return Future.all(results).map(all -> all.<Named>list());
    }

    private static JsonObject answer(ServingModel serving, List<Named> results) {
        JsonArray items = new JsonArray();
        for (Named result : results) {
            JsonArray predictions = new JsonArray();
            for (Prediction p : result.classification().predictions()) {
                predictions.add(new JsonObject().put("label", p.label()).put("index", p.index()).put("score", p.score()));
            }
            Classification.Timings t = result.classification().timings();
            items.add(new JsonObject()
                    .put("name", result.name())
                    .put("predictions", predictions)
                    .put("timing_ms", new JsonObject()
                            .put("decode", round(t.decodeMs()))
                            .put("preprocess", round(t.preprocessMs()))
                            .put("queue", round(t.queueMs()))
                            .put("inference", round(t.inferenceMs()))
                            .put("total", round(t.totalMs())))
                    .put("batch_size", t.batchSize()));
        }
        return new JsonObject()
                .put("model", serving.model().files().name())
                .put("backend", serving.backendId())
                .put("device", serving.backend().device().id())
                .put("results", items);
    }

    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    /** {@code top_k}: a whole number of at least 1, default 5; larger values are clamped to the labels. */
    static int topK(RoutingContext ctx) {
        String value = ctx.request().getParam("top_k");
        if (value == null || value.isBlank()) {
            return DEFAULT_TOP_K;
        }
        try {
            int topK = Integer.parseInt(value.trim());
            if (topK >= 1) {
                return topK;
            }
        } catch (NumberFormatException e) {
            if (value.trim().matches("\\d+")) {
                return Integer.MAX_VALUE;
            }
        }
        throw ApiException.badRequest("invalid_parameter", "top_k must be a whole number of at least 1, got '" + value + "'");
    }

    /** {@code function}: softmax, sigmoid or none; the model's default otherwise. */
    static ScoreFunction function(RoutingContext ctx, ScoreFunction fallback) {
        String value = ctx.request().getParam("function");
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return ScoreFunction.parse(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_parameter", e.getMessage());
        }
    }
}
