package dev.vitserve.core.protocol.rest;

import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;

/**
 * {@code GET /v1/models}, {@code GET /v1/models/{name}}, {@code /v1/limits}, {@code /health/live} and
 * {@code /health/ready}.
 */
public final class InfoHandlers {

    private final ServerState state;
    private final ModelLookup models;
    private final JsonObject limits;

    InfoHandlers(ServerState state, ServerConfig config, ModelLookup models) {
        this.state = state;
        this.models = models;
        this.limits = new JsonObject()
                .put("max_body_bytes", config.maxBodySize())
                .put("max_pixels", config.maxPixels())
                .put("max_files", config.maxFiles())
                .put("url_fetch", config.urlFetchEnabled());
    }

    /** What this server accepts, so that a client (the page) can say so before sending. */
    void limits(RoutingContext ctx) {
        json(ctx, 200, limits);
    }

    void live(RoutingContext ctx) {
        json(ctx, 200, new JsonObject().put("status", "live"));
    }

    void ready(RoutingContext ctx) {
        if (state.ready()) {
            json(ctx, 200, new JsonObject().put("status", "ready"));
        } else {
            ctx.response().putHeader("Retry-After", "5");
            json(ctx, 503, new JsonObject().put("status", "not_ready").put("reason", state.loadingStatus()));
        }
    }

    /**
     * Every model with its state, and at the top level the default model's description as a
     * one-model server has always answered it.
     */
    void models(RoutingContext ctx) {
        JsonObject body = new JsonObject();
        ModelEntry defaultModel = state.models().defaultModel();
        if (defaultModel != null) {
            defaultModel.serving().ifPresent(serving -> body.mergeIn(describe(serving)));
            body.put("default", defaultModel.name());
        }
        JsonArray models = new JsonArray();
        for (ModelEntry entry : state.models().list()) {
            models.add(describe(entry));
        }
        json(ctx, 200, body.put("models", models));
    }

    /** {@code GET /v1/models/{name}}: one model, its state and, once loaded, what it is. */
    void model(RoutingContext ctx) {
        ModelEntry entry;
        try {
            entry = models.require(ctx);
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        json(ctx, 200, describe(entry));
    }

    /** A model's name, state (with what it is doing, or why it failed) and, once loaded, its description. */
    public static JsonObject describe(ModelEntry entry) {
        JsonObject json = new JsonObject()
                .put("name", entry.name())
                .put("state", entry.state().id())
                .put("status", entry.status())
                .put("reloading", entry.reloading())
                .put("model", entry.name())
                .put("source", entry.settings().model())
                .put("revision", entry.settings().revision())
                .put("backend", entry.settings().backend())
                .put("threads", entry.settings().threads())
                .put("max_queue", entry.settings().maxQueue());
        entry.serving().ifPresent(serving -> json.mergeIn(describe(serving))
                .put("label_names", new JsonArray(serving.model().labels()))
                .put("weights_bytes", serving.weightsBytes()));
        return json;
    }

    static JsonObject describe(ServingModel serving) {
        VitConfig shape = serving.model().files().config();
        PreprocessorConfig pre = serving.model().preprocessing();
        Path directory = serving.model().files().directory();
        Path weights = serving.backend().weightsFile();
        return new JsonObject()
                .put("model", serving.settings().name())
                .put("source", serving.settings().model())
                .put("path", directory.toString())
                // what the model folder's card says the model is (README.md's first paragraph), null when it says nothing
                .put("description", serving.model().description().orElse(null))
                .put("architecture", serving.architecture())
                .put("task", serving.task().id())
                .put("labels", serving.model().labels().size())
                .put("image_size", new JsonObject().put("height", shape.imageHeight()).put("width", shape.imageWidth()))
                // an exported network of another architecture has no hidden size, and embeddings only when found
                .put("hidden_size", shape.architecture().exported() ? null : shape.hiddenSize())
                .put("embedding_size", serving.backend().embeds() || !shape.architecture().exported()
                        ? serving.embeddingSize() : null)
                .put("backend", serving.backendId())
                .put("engine", serving.backend().engine())
                .put("device", serving.backend().device().id())
                .put("device_detail", serving.backend().device().detail())
                .put("weights", weights.startsWith(directory) ? directory.relativize(weights).toString() : weights.toString())
                .put("precision", serving.backend().build().precision().id())
                .put("build", build(serving.backend().build()))
                .put("max_batch", serving.scheduler().maxBatch())
                .put("default_function", serving.model().defaultFunction().id())
                .put("preprocessing", new JsonObject()
                        .put("processor", pre.processor().className())
                        .put("resize", pre.doResize())
                        .put("center_crop", pre.doCenterCrop())
                        .put("size", new JsonObject().put("height", pre.height()).put("width", pre.width()))
                        .put("resample", pre.resample())
                        .put("resample_filter", pre.filter().name())
                        .put("rescale_factor", pre.doRescale() ? pre.rescaleFactor() : null)
                        .put("image_mean", pre.doNormalize() ? floats(pre.imageMean()) : null)
                        .put("image_std", pre.doNormalize() ? floats(pre.imageStd()) : null));
    }

    /**
     * What the backend built: which layers are int8 (or bf16, fp16) and how, which stay float32, the CPU features its
     * kernels use, why auto chose it, load and quantization time.
     */
    private static JsonObject build(NetworkBuild build) {
        return new JsonObject()
                .put("precision", build.precision().id())
                .put("cpu_features", build.cpuFeatures().isEmpty() ? new JsonArray()
                        : new JsonArray(java.util.List.of(build.cpuFeatures().split(" "))))
                .put("chosen_because", build.chosenBecause().isEmpty() ? null : build.chosenBecause())
                .put("quantized_layers", build.quantizedLayers())
                .put("float32_layers", build.floatLayers())
                .put("operators", build.operators().isEmpty() ? null : build.operators())
                .put("load_ms", build.loadMillis())
                .put("quantize_ms", build.quantizeMillis());
    }

    private static JsonArray floats(float[] values) {
        JsonArray array = new JsonArray();
        for (float value : values) {
            array.add(Double.parseDouble(Float.toString(value)));
        }
        return array;
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }
}
