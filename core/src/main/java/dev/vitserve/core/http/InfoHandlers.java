package dev.vitserve.core.http;

import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.ServerState;
import dev.vitserve.core.ServingModel;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.image.PreprocessorConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;

/** {@code GET /v1/models}, {@code /v1/limits}, {@code /health/live} and {@code /health/ready}. */
final class InfoHandlers {

    private final ServerState state;
    private final JsonObject limits;

    InfoHandlers(ServerState state, ServerConfig config) {
        this.state = state;
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

    void models(RoutingContext ctx) {
        ServingModel serving;
        try {
            serving = Readiness.require(state);
        } catch (ApiException e) {
            ErrorResponses.send(ctx, e);
            return;
        }
        json(ctx, 200, describe(serving));
    }

    static JsonObject describe(ServingModel serving) {
        VitConfig shape = serving.model().files().config();
        PreprocessorConfig pre = serving.model().preprocessing();
        Path directory = serving.model().files().directory();
        Path weights = serving.backend().weightsFile();
        return new JsonObject()
                .put("model", serving.model().files().name())
                .put("path", directory.toString())
                .put("labels", serving.model().labels().size())
                .put("image_size", new JsonObject().put("height", shape.imageHeight()).put("width", shape.imageWidth()))
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
                        .put("resize", pre.doResize())
                        .put("size", new JsonObject().put("height", pre.height()).put("width", pre.width()))
                        .put("resample", pre.resample())
                        .put("rescale_factor", pre.doRescale() ? pre.rescaleFactor() : null)
                        .put("image_mean", pre.doNormalize() ? floats(pre.imageMean()) : null)
                        .put("image_std", pre.doNormalize() ? floats(pre.imageStd()) : null));
    }

    /** What the backend built: which layers are int8 and how, which stay float32, load and quantization time. */
    private static JsonObject build(NetworkBuild build) {
        return new JsonObject()
                .put("precision", build.precision().id())
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
