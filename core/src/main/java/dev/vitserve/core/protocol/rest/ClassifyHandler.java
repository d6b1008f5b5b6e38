package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.http.RequestImage;
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
import java.util.function.BiFunction;

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

    /** One image's answer and the name it came with. */
    record Named<T>(String name, T answer) {
    }

    /**
     * Runs {@code work} on every image of a request at once, after checking the pixels their headers
     * announce against the request's allowance; the answers keep the images' order, and an error about
     * one of several images names it.
     */
    static <T> Future<List<Named<T>>> eachImage(ServingModel serving, List<RequestImage> images, RequestPixels pixels,
                                                BiFunction<byte[], RequestPixels, Future<T>> work) {
        long announced = 0;
        for (RequestImage image : images) {
            announced += serving.pipeline().announcedPixels(image.bytes());
        }
        try {
            pixels.checkAnnounced(announced);
        } catch (ImageDecodeException e) {
            return Future.failedFuture(e);
        }
        List<Future<Named<T>>> results = new ArrayList<>();
        for (RequestImage image : images) {
            results.add(work.apply(image.bytes(), pixels)
                    .map(answer -> new Named<>(image.name(), answer))
                    .recover(failure -> {
                        ApiException known = ErrorResponses.fromFailure(failure);
                        return Future.failedFuture(known != null && images.size() > 1 ? known.about(image.name()) : failure);
                    }));
        }
        return Future.all(results).map(all -> all.<Named<T>>list());
    }

    private static Future<List<Named<Classification>>> classifyAll(ServingModel serving, List<RequestImage> images,
                                                                  RequestPixels pixels, int topK, ScoreFunction function,
                                                                  long start) {
        return eachImage(serving, images, pixels,
                (bytes, allowance) -> serving.pipeline().classify(bytes, allowance, topK, function, start));
    }

    private static JsonObject answer(ServingModel serving, List<Named<Classification>> results) {
        JsonArray items = new JsonArray();
        for (Named<Classification> result : results) {
            JsonArray predictions = new JsonArray();
            for (Prediction p : result.answer().predictions()) {
                predictions.add(new JsonObject().put("label", p.label()).put("index", p.index()).put("score", p.score()));
            }
            items.add(new JsonObject()
                    .put("name", result.name())
                    .put("predictions", predictions)
                    .put("timing_ms", timings(result.answer().timings()))
                    .put("batch_size", result.answer().timings().batchSize()));
        }
        return about(serving).put("results", items);
    }

    /** The model (by the name requests use), backend and device an answer came from. */
    static JsonObject about(ServingModel serving) {
        return new JsonObject()
                .put("model", serving.settings().name())
                .put("backend", serving.backendId())
                .put("device", serving.backend().device().id());
    }

    /** Where one image's time went, in milliseconds. */
    static JsonObject timings(Classification.Timings t) {
        return new JsonObject()
                .put("decode", round(t.decodeMs()))
                .put("preprocess", round(t.preprocessMs()))
                .put("queue", round(t.queueMs()))
                .put("inference", round(t.inferenceMs()))
                .put("total", round(t.totalMs()));
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
