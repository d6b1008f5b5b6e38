package dev.vitserve.core.http;

import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ModelService;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Open Inference Protocol's model repository extension on the management listener, as Triton
 * answers it: {@code POST /v2/repository/index} lists the models loaded and those of
 * {@code --model-repository} not loaded; {@code .../models/{m}/load} loads a folder of the repository
 * (or reloads a model already loaded) and answers once it is ready; {@code .../unload} answers once it
 * is freed. The work is the {@link ModelService}'s, as for {@code /admin/models}; errors are
 * {@code {"error": "..."}}.
 */
final class OipRepositoryHandlers {

    /** The routes' model path, {@code /v2/repository/models/{name}}. */
    static final String MODEL = "^/v2/repository/models/(?<" + ModelLookup.NAME + ">[^?#]+?)";

    private final ServerConfig config;
    private final ModelService service;
    private final ModelLookup models;

    OipRepositoryHandlers(ServerConfig config, ModelService service, ModelLookup models) {
        this.config = config;
        this.service = service;
        this.models = models;
    }

    /** Every model with its state; {@code {"ready": true}} keeps only those ready. */
    void index(RoutingContext ctx) {
        boolean onlyReady;
        try {
            String body = ctx.body().asString();
            onlyReady = body != null && !body.isBlank() && new JsonObject(body).getBoolean("ready", false);
        } catch (DecodeException | ClassCastException e) {
            ErrorResponses.send(ctx, ApiException.badRequest("invalid_json",
                    "the body must be a JSON object such as {\"ready\": true}"));
            return;
        }
        // listing --model-repository reads the disk: on a worker, not the event loop
        ctx.vertx().executeBlocking(() -> index(onlyReady), false)
                .onSuccess(answer -> ctx.response().putHeader("Content-Type", "application/json").end(answer.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private JsonArray index(boolean onlyReady) {
        Map<String, JsonObject> all = new LinkedHashMap<>();
        for (ModelEntry entry : service.list()) {
            all.put(entry.name(), new JsonObject().put("name", entry.name()).put("version", "1")
                    .put("state", state(entry)).put("reason", entry.state() == ModelEntry.State.READY ? "" : entry.status()));
        }
        repositoryFolders().forEach(folder -> all.putIfAbsent(folder.getFileName().toString(), new JsonObject()
                .put("name", folder.getFileName().toString()).put("version", "1").put("state", "UNAVAILABLE")
                .put("reason", "unloaded")));
        JsonArray answer = new JsonArray();
        all.values().stream().filter(model -> !onlyReady || "READY".equals(model.getString("state"))).forEach(answer::add);
        return answer;
    }

    /** Loads the repository's folder of that name, or reloads the model of that name; 200 once it is ready. */
    void load(RoutingContext ctx) {
        String name = ModelLookup.decoded(ctx.pathParam(ModelLookup.NAME));
        Future<ModelService.Loading> loading;
        if (models.knows(name)) {
            try {
                loading = service.reload(name, null);
            } catch (RuntimeException e) {
                ErrorResponses.fail(ctx, e);
                return;
            }
        } else {
            // looking for the folder reads the disk: on a worker, not the event loop
            loading = ctx.vertx().executeBlocking(() -> repositoryFolder(name).orElseThrow(() -> new ApiException(404,
                    "unknown_model", "no model '" + name + "' is loaded, and " + (config.modelRepository().isEmpty()
                            ? "this server has no --model-repository to load it from"
                            : "--model-repository " + config.modelRepository().get() + " has no folder of that name "
                            + "with a config.json"))), false)
                    .compose(folder -> service.load(config.modelDefaults(name, folder.toString())));
        }
        answer(ctx, loading.compose(ModelService.Loading::ready));
    }

    /** Unloads the model; 200 once its engine is freed. */
    void unload(RoutingContext ctx) {
        Future<Void> unloaded;
        try {
            unloaded = service.unload(models.require(ctx).name());
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answer(ctx, unloaded);
    }

    private static void answer(RoutingContext ctx, Future<Void> done) {
        done.onSuccess(v -> ctx.response().putHeader("Content-Type", "application/json").end("{}"))
                .onFailure(failure -> {
                    ApiException known = ErrorResponses.fromFailure(failure);
                    // a load that failed is the request's failure, as Triton answers it: 400 with the reason
                    ErrorResponses.send(ctx, known != null ? known : ApiException.badRequest("load_failed",
                            "the model failed to load: " + failure.getMessage()));
                });
    }

    /** Triton's names of the states: READY, LOADING, UNLOADING, UNAVAILABLE (failed). */
    private static String state(ModelEntry entry) {
        return switch (entry.state()) {
            case READY -> "READY";
            case LOADING -> "LOADING";
            case UNLOADING -> "UNLOADING";
            case FAILED -> "UNAVAILABLE";
        };
    }

    private Optional<Path> repositoryFolder(String name) {
        return repositoryFolders().filter(folder -> folder.getFileName().toString().equals(name)).findFirst();
    }

    /** The model folders of {@code --model-repository}, none when it cannot be listed. */
    private Stream<Path> repositoryFolders() {
        try {
            return config.modelRepositoryFolders().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }
}
