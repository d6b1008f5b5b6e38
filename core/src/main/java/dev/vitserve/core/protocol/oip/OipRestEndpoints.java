package dev.vitserve.core.protocol.oip;

import dev.vitserve.api.NetworkBuild;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.Door;
import dev.vitserve.core.http.DoorRoutes;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * The Open Inference Protocol v2 over REST (KServe v2, Triton's HTTP API): health, server and
 * model metadata, and inference with the binary tensor data and classification extensions.
 * Model names may contain '/' ({@code /v2/models/google/vit-base-patch16-224/infer}); the
 * {@code /versions/1} forms are accepted.
 */
public final class OipRestEndpoints implements Door {

    /** A model's path: its name, then optionally {@code /versions/{v}}; the name never ends in /ready or /infer. */
    private static final String MODEL = "^/v2/models/(?<name>.+?)(?:/versions/(?<version>[^/]+))?";
    /** {@code GET} a model's metadata. */
    public static final String METADATA_PATH = MODEL + "$(?<!/ready)(?<!/infer)(?<!/config)(?<!/stats)";
    /** {@code GET} a model's configuration, in Triton's model_config.proto schema. */
    public static final String CONFIG_PATH = MODEL + "/config$";
    /** {@code GET} a model's statistics, in Triton's ModelStatistics schema. */
    public static final String STATS_PATH = MODEL + "/stats$";
    /** {@code GET} every model's statistics. */
    public static final String ALL_STATS_PATH = "/v2/models/stats";
    /** {@code GET} whether a model is ready. */
    public static final String READY_PATH = MODEL + "/ready$";
    /** {@code POST} an inference request. */
    public static final String INFER_PATH = MODEL + "/infer$";
    /** The protocol extensions vitserve implements. */
    static final List<String> EXTENSIONS = List.of("binary_tensor_data", "classification");
    /** The extensions gRPC offers too: binary tensor data is REST's (gRPC's tensors are bytes already). */
    static final List<String> GRPC_EXTENSIONS = List.of("classification");

    private final ModelLookup models;
    private final OipInference inference;
    private final String version;
    private final TritonStatistics statistics;

    /** Health, metadata and readiness only (the management listener's): no inference, no statistics. */
    public OipRestEndpoints(ModelLookup models, String version) {
        this(models, null, version, null);
    }

    /**
     * @param version vitserve's version, for the server metadata
     * @param statistics the models' statistics, read from the meters /metrics exports
     */
    public OipRestEndpoints(ModelLookup models, OipInference inference, String version, TritonStatistics statistics) {
        this.models = models;
        this.inference = inference;
        this.version = version;
        this.statistics = statistics;
    }

    @Override
    public void mount(Router router, DoorRoutes routes) {
        router.get("/v2/health/live").handler(this::live);
        router.get("/v2/health/ready").handler(this::ready);
        routes.guarded(router.get("/v2").handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::serverMetadata);
        routes.guarded(router.getWithRegex(READY_PATH).setName("/v2/models/{name}/ready")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::modelReady);
        routes.guarded(router.get(ALL_STATS_PATH).setName(ALL_STATS_PATH)
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::allStatistics);
        routes.guarded(router.getWithRegex(STATS_PATH).setName("/v2/models/{name}/stats")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::modelStatistics);
        routes.guarded(router.getWithRegex(CONFIG_PATH).setName("/v2/models/{name}/config")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::modelConfig);
        routes.guarded(router.getWithRegex(METADATA_PATH).setName("/v2/models/{name}")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER)).handler(this::modelMetadata);
        routes.readsAs(router.postWithRegex(INFER_PATH).setName("/v2/models/{name}/infer")
                .handler(ErrorResponses.PLAIN_ERRORS_HANDLER), new InferBodyType()).handler(this::infer);
    }

    /** {@code GET /v2}. */
    public void serverMetadata(RoutingContext ctx) {
        json(ctx, 200, new JsonObject().put("name", "vitserve").put("version", version)
                .put("extensions", new JsonArray(EXTENSIONS)));
    }

    /** {@code GET /v2/health/live}: 200 while the process runs. */
    public void live(RoutingContext ctx) {
        json(ctx, 200, new JsonObject().put("live", true));
    }

    /** {@code GET /v2/health/ready}: 200 once every model answers, else 503 with Retry-After. */
    public void ready(RoutingContext ctx) {
        if (models.serverReady()) {
            json(ctx, 200, new JsonObject().put("ready", true));
        } else {
            ctx.response().putHeader("Retry-After", "5");
            json(ctx, 503, new JsonObject().put("ready", false));
        }
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/ready}. */
    public void modelReady(RoutingContext ctx) {
        try {
            ModelEntry entry = models.require(model(ctx));
            entry.answering();
            json(ctx, 200, new JsonObject().put("name", entry.name()).put("ready", true));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
        }
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]}. */
    public void modelMetadata(RoutingContext ctx) {
        try {
            ModelEntry entry = models.require(model(ctx));
            ServingModel serving = entry.answering();
            ModelMetadata metadata = ModelMetadata.of(entry.name(), serving);
            NetworkBuild build = serving.backend().build();
            JsonObject body = new JsonObject().put("name", metadata.name())
                    .put("versions", new JsonArray(metadata.versions())).put("platform", metadata.platform())
                    .put("architecture", metadata.architecture()).put("processor", metadata.processor())
                    .put("precision", metadata.precision())
                    .put("cpu_features", build.cpuFeatures().isEmpty() ? new JsonArray()
                            : new JsonArray(List.of(build.cpuFeatures().split(" "))))
                    .put("inputs", tensors(metadata.inputs())).put("outputs", tensors(metadata.outputs()));
            json(ctx, 200, body);
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
        }
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/config}: the configuration as Triton's REST API writes it. */
    public void modelConfig(RoutingContext ctx) {
        try {
            String name = model(ctx);
            json(ctx, 200, TritonJson.of(TritonModelConfig.of(name, models.require(name).answering())));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
        }
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/stats}. */
    public void modelStatistics(RoutingContext ctx) {
        try {
            String name = model(ctx);
            models.require(name);
            json(ctx, 200, new JsonObject().put("model_stats", new JsonArray().add(
                    TritonJson.of(statistics.of(name)))));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
        }
    }

    /** {@code GET /v2/models/stats}: every model's. */
    public void allStatistics(RoutingContext ctx) {
        JsonArray all = new JsonArray();
        models.names().forEach(name -> all.add(TritonJson.of(statistics.of(name))));
        json(ctx, 200, new JsonObject().put("model_stats", all));
    }

    /** {@code POST /v2/models/{m}[/versions/{v}]/infer}; the body is read on a worker, a JSON tensor can be large. */
    public void infer(RoutingContext ctx) {
        ModelEntry entry;
        try {
            entry = models.require(model(ctx));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        String headerLength = ctx.request().getHeader(RestInferenceCodec.HEADER_LENGTH);
        Future<InferenceResponse> answered;
        try {
            answered = entry.use(serving -> ctx.vertx()
                    .executeBlocking(() -> RestInferenceCodec.read(ctx.body().buffer(), headerLength), false)
                    .compose(request -> inference.infer(entry.name(), serving, request)));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(response -> answer(ctx, response)).onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static void answer(RoutingContext ctx, InferenceResponse response) {
        RestInferenceCodec.Encoded encoded = RestInferenceCodec.write(response);
        ctx.response().putHeader("Content-Type", encoded.contentType());
        if (encoded.headerLength() != null) {
            ctx.response().putHeader(RestInferenceCodec.HEADER_LENGTH, String.valueOf(encoded.headerLength()));
        }
        ctx.response().end(encoded.body());
    }

    /** The model named in the path, after checking its version, if given, is vitserve's one version. */
    private String model(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String version = ctx.pathParam("version");
        if (!models.knows(name)) {
            notOffered(ctx, name);
        }
        if (version != null && !version.equals(ModelMetadata.VERSION)) {
            if (!models.knows(name)) {
                models.require(name);
            }
            throw new ApiException(404, "unknown_version", "model '" + name + "' has no version '" + version
                    + "'; vitserve serves version " + ModelMetadata.VERSION);
        }
        return name;
    }

    /**
     * Refuses, with a 404 that says the resource is not offered, a path that names a known model then a sub-resource
     * vitserve does not serve ({@code /v2/models/tiny-vit/foo}), rather than reading the path as an unknown model's
     * name.
     */
    private void notOffered(RoutingContext ctx, String name) {
        String path = ctx.request().path();
        for (int slash = name.lastIndexOf('/'); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
            String model = name.substring(0, slash).replaceFirst("/versions/[^/]+$", "");
            if (models.knows(model)) {
                throw new ApiException(404, "not_offered", "'" + path + "' is not offered by vitserve: for model '"
                        + model + "' it serves GET /v2/models/" + model + " (metadata), GET .../ready, .../config, "
                        + ".../stats and POST .../infer, each also under /versions/" + ModelMetadata.VERSION);
            }
        }
    }

    private static JsonArray tensors(List<ModelMetadata.Tensor> tensors) {
        JsonArray array = new JsonArray();
        for (ModelMetadata.Tensor tensor : tensors) {
            array.add(new JsonObject().put("name", tensor.name()).put("datatype", tensor.datatype())
                    .put("shape", new JsonArray(tensor.shape())));
        }
        return array;
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }
}
