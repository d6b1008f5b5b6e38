package dev.vitserve.core.protocol.rest;

import dev.vitserve.api.VitConfig;
import dev.vitserve.core.explain.Explainer;
import dev.vitserve.core.explain.Explainer.Explanation;
import dev.vitserve.core.explain.Explainer.Method;
import dev.vitserve.core.explain.Grid;
import dev.vitserve.core.explain.HeatmapPng;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Classification;
import dev.vitserve.core.inference.Postprocessor;
import dev.vitserve.core.inference.Postprocessor.Prediction;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.model.WrongTaskException;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * {@code POST /v1/models/{name}/explain} and {@code POST /v1/explain} (the default model, or {@code ?model=NAME}): one
 * image, in any form classify takes, answered with a heatmap of where the model looked ({@code method=rollout}, the
 * default, or {@code occlusion}; {@code grid}, {@code target}), as JSON or ({@code Accept: image/png} or
 * {@code format=png}) as a PNG over the image the model saw.
 */
final class ExplainHandler implements Handler<RoutingContext> {

    /** How the heatmap's numbers are scaled to [0, 1], said in every answer. */
    static final String SCALING = "negative values clamped to 0, then divided by the largest value (all 0 when none"
            + " is positive)";

    private final ModelLookup models;
    private final ImageRequestReader reader;
    private final long maxRequestPixels;

    /** A handler reading images with {@code reader}, the request's image at most {@code maxRequestPixels}. */
    ExplainHandler(ModelLookup models, ImageRequestReader reader, long maxRequestPixels) {
        this.models = models;
        this.reader = reader;
        this.maxRequestPixels = maxRequestPixels;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        Future<Void> answered;
        try {
            Method method = method(ctx);
            Grid asked = grid(ctx);
            boolean png = wantsPng(ctx);
            int topK = ClassifyHandler.topK(ctx);
            answered = models.require(ctx).use(serving -> {
                if (serving.pipeline().numLabels() == 0) {
                    // a zero-shot model: its labels come with each request, and explain has none to score
                    throw WrongTaskException.noOwnLabels();
                }
                ScoreFunction function = ClassifyHandler.function(ctx, serving.model().defaultFunction());
                VitConfig config = serving.model().files().config();
                Grid grid = checkedGrid(serving, method, asked, config);
                Integer target = target(ctx.request().getParam("target"), serving);
                Explainer explainer = new Explainer(serving.pipeline());
                return reader.read(ctx).compose(images -> {
                    if (images.size() != 1) {
                        throw ApiException.badRequest("invalid_request", "explain takes exactly one image, got "
                                + images.size());
                    }
                    RequestPixels pixels = new RequestPixels(maxRequestPixels);
                    return ClassifyHandler.eachImage(serving, images, pixels, (bytes, allowance) -> explainer.explain(
                            bytes, allowance, method, grid, target, function, topK, start));
                }).compose(results -> send(ctx, serving, results.get(0).answer(), png, start));
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static Future<Void> send(RoutingContext ctx, ServingModel serving, Explanation explanation, boolean png,
                                     long start) {
        if (!png) {
            return ctx.response().putHeader("Content-Type", "application/json")
                    .end(answer(serving, explanation, start).encode());
        }
        // encoding a PNG is CPU work: on a worker, never the event loop
        return ctx.vertx().executeBlocking(() -> HeatmapPng.render(explanation.tensor(), explanation.shape(),
                serving.pipeline().preprocessor().config(), explanation.heatmap()), false)
                .compose(bytes -> ctx.response().putHeader("Content-Type", "image/png")
                        .putHeader("X-Explain-Target", explanation.target().index() + "")
                        .end(Buffer.buffer(bytes)));
    }

    static JsonObject answer(ServingModel serving, Explanation e, long start) {
        Grid grid = e.heatmap().grid();
        JsonArray predictions = new JsonArray();
        for (Prediction p : e.classification().predictions()) {
            predictions.add(new JsonObject().put("label", p.label()).put("index", p.index()).put("score", p.score()));
        }
        Classification.Timings t = e.classification().timings();
        JsonObject timings = ClassifyHandler.timings(new Classification.Timings(t.decodeMs(), t.preprocessMs(),
                t.queueMs(), t.inferenceMs(), (System.nanoTime() - start) / 1e6, t.batchSize()));
        return ClassifyHandler.about(serving)
                .put("method", e.method().id())
                .put("grid", new JsonObject().put("rows", grid.rows()).put("cols", grid.cols()))
                .put("heatmap", rows(e.heatmap().scaled(), grid))
                .put("values", rows(e.heatmap().values(), grid))
                .put("scaling", SCALING)
                .put("target", new JsonObject().put("label", e.target().label()).put("index", e.target().index())
                        .put("score", e.target().score()))
                .put("predictions", predictions)
                .put("engine_images", e.engineImages())
                .put("timing_ms", timings);
    }

    private static JsonArray rows(float[] values, Grid grid) {
        JsonArray rows = new JsonArray();
        for (int i = 0; i < grid.rows(); i++) {
            JsonArray row = new JsonArray();
            for (int j = 0; j < grid.cols(); j++) {
                row.add(values[i * grid.cols() + j]);
            }
            rows.add(row);
        }
        return rows;
    }

    /** {@code method}: rollout (default) or occlusion. */
    static Method method(RoutingContext ctx) {
        String value = ctx.request().getParam("method");
        if (value == null || value.isBlank()) {
            return Method.ROLLOUT;
        }
        try {
            return Method.parse(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_parameter", e.getMessage());
        }
    }

    /** {@code grid}: ROWSxCOLS or N, each side 1..16; null when not given. */
    static Grid grid(RoutingContext ctx) {
        String value = ctx.request().getParam("grid");
        if (value == null || value.isBlank()) {
            return null;
        }
        Grid grid;
        try {
            grid = Grid.parse(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_parameter", e.getMessage());
        }
        if (grid.rows() > Grid.MAX_SIDE || grid.cols() > Grid.MAX_SIDE) {
            throw ApiException.badRequest("invalid_parameter", "grid " + grid + " is over the bound: each side at most "
                    + Grid.MAX_SIDE + " (an occlusion runs one masked image per cell, at most " + Grid.MAX_SIDE + "x"
                    + Grid.MAX_SIDE + " = " + Grid.MAX_SIDE * Grid.MAX_SIDE + ")");
        }
        return grid;
    }

    /** The grid the method runs on, refusing what the model cannot do. */
    private static Grid checkedGrid(ServingModel serving, Method method, Grid asked, VitConfig config) {
        String model = serving.settings().name();
        if (method == Method.ROLLOUT) {
            if (!serving.backend().rollsOut()) {
                throw new ApiException(400, "rollout_unavailable", rolloutRefusal(serving, config));
            }
            Grid patches = Explainer.patchGrid(config);
            if (asked != null && !asked.equals(patches)) {
                throw ApiException.badRequest("invalid_parameter", "rollout answers on the patch grid of model '" + model
                        + "', " + patches + " (one cell per patch token); grid " + asked + " applies to method=occlusion");
            }
            return patches;
        }
        Grid grid = asked != null ? asked : Explainer.defaultOcclusionGrid(config);
        if (grid.rows() > config.imageHeight() || grid.cols() > config.imageWidth()) {
            throw ApiException.badRequest("invalid_parameter", "grid " + grid + " has more cells per side than model '"
                    + model + "' has pixels (" + config.imageHeight() + "x" + config.imageWidth() + ")");
        }
        return grid;
    }

    private static String rolloutRefusal(ServingModel serving, VitConfig config) {
        String model = serving.settings().name();
        String architecture = config.architecture().className();
        if (architecture.startsWith("Swin")) {
            return "model '" + model + "' is " + architecture + ", whose tokens attend only inside (shifted) windows"
                    + " and are merged between stages: there is no attention of the class over every patch to roll out."
                    + " Use method=occlusion, which works for any model";
        }
        return "model '" + model + "' runs " + serving.backend().weightsFile().getFileName() + " on "
                + serving.backend().engine() + ", which gives no attention probabilities: attention rollout comes from"
                + " the ViT, DeiT, BEiT and DINOv2 networks vitserve builds from model.safetensors. Use method=occlusion,"
                + " which works for any model";
    }

    /** {@code target}: a label of the model, or a class index; null for the top-1. */
    static Integer target(String value, ServingModel serving) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Postprocessor labels = serving.pipeline().postprocessor();
        int n = labels.numLabels();
        for (int i = 0; i < n; i++) {
            if (labels.label(i).equals(value)) {
                return i;
            }
        }
        String trimmed = value.trim();
        if (trimmed.matches("\\d{1,9}") && Integer.parseInt(trimmed) < n) {
            return Integer.parseInt(trimmed);
        }
        throw ApiException.badRequest("invalid_parameter", "target '" + value + "' is not a label of model '"
                + serving.settings().name() + "' nor a class index 0.." + (n - 1) + " (labels are in GET /v1/models/"
                + serving.settings().name() + ")");
    }

    /** A PNG when {@code format=png} or the Accept header asks for image/png (and not JSON first). */
    static boolean wantsPng(RoutingContext ctx) {
        String format = ctx.request().getParam("format");
        if (format != null && !format.isBlank()) {
            return switch (format.trim().toLowerCase(Locale.ROOT)) {
                case "png" -> true;
                case "json" -> false;
                default -> throw ApiException.badRequest("invalid_parameter", "format must be json or png, got '"
                        + format + "'");
            };
        }
        String accept = ctx.request().getHeader("Accept");
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("image/png")
                && !accept.toLowerCase(Locale.ROOT).startsWith("application/json");
    }
}
