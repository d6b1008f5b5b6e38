package dev.vitserve.core.protocol.oip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.config.ConfigException;
import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ModelException;
import dev.vitserve.core.registry.ModelService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Open Inference Protocol's model repository extension, as Triton answers it, over the
 * {@link ModelService}: the index of the models loaded and of {@code --model-repository}'s folders,
 * load (a folder of the repository, or a reload of a model loaded) and unload, each done when its
 * future completes. REST and gRPC front doors only read and write their own messages around it.
 */
public final class OipModelRepository {

    /** One model of the index, with Triton's state names: READY, LOADING, UNLOADING, UNAVAILABLE. */
    public record IndexEntry(String name, String version, String state, String reason) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The longest {@code config} parameter read: a model's settings fit in far less. */
    static final int MAX_SETTINGS_CHARS = 16 * 1024;

    private final Vertx vertx;
    private final ServerConfig config;
    private final ModelService service;
    private final ModelLookup models;

    public OipModelRepository(Vertx vertx, ServerConfig config, ModelService service, ModelLookup models) {
        this.vertx = vertx;
        this.config = config;
        this.service = service;
        this.models = models;
    }

    /** The repository's name, that of {@code --model-repository}'s folder; "" without one. */
    public String name() {
        return config.modelRepository().map(folder -> folder.getFileName().toString()).orElse("");
    }

    /** Every model loaded, then the repository's folders not loaded; with {@code onlyReady}, those ready only. */
    public Future<List<IndexEntry>> index(boolean onlyReady) {
        // listing --model-repository reads the disk: on a worker, not the event loop
        return vertx.executeBlocking(() -> {
            Map<String, IndexEntry> all = new LinkedHashMap<>();
            for (ModelEntry entry : service.list()) {
                all.put(entry.name(), new IndexEntry(entry.name(), ModelMetadata.VERSION, state(entry),
                        entry.state() == ModelEntry.State.READY ? "" : entry.status()));
            }
            repositoryFolders().forEach(folder -> all.putIfAbsent(folder.getFileName().toString(), new IndexEntry(
                    folder.getFileName().toString(), ModelMetadata.VERSION, "UNAVAILABLE", "unloaded")));
            List<IndexEntry> answer = new ArrayList<>();
            all.values().stream().filter(model -> !onlyReady || "READY".equals(model.state())).forEach(answer::add);
            return answer;
        }, false);
    }

    /**
     * Loads the repository's folder of that name, or reloads the model of that name when it is loaded;
     * completes once it answers. {@code settingsJson} is Triton's {@code config} parameter, here a JSON object
     * of vitserve's per-model settings ({@code threads}, {@code precision}, {@code max-batch}...; not
     * {@code name} or {@code model}: the folder is the model), or null for the defaults (the model's own, on a
     * reload). A load that fails is a 400 with the reason, as Triton answers it.
     */
    public Future<Void> load(String name, String settingsJson) {
        JsonNode changes;
        try {
            changes = changes(settingsJson);
        } catch (ApiException e) {
            return Future.failedFuture(e);
        }
        Future<ModelService.Loading> loading;
        try {
            loading = models.knows(name) ? service.reload(name, changes)
                    : vertx.executeBlocking(() -> settings(name, changes), false).compose(service::load);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return loading.compose(ModelService.Loading::ready).recover(failure -> Future.failedFuture(
                failure instanceof ApiException || failure instanceof ModelException
                        ? failure : ApiException.badRequest("load_failed", "the model failed to load: " + failure.getMessage())));
    }

    /** Refuses Triton's {@code file:<version>/<name>} parameters of a load: vitserve loads the repository's folders only. */
    public static void refuseModelFiles(Iterable<String> parameterNames) {
        for (String name : parameterNames) {
            if (name.startsWith("file:")) {
                throw ApiException.badRequest("unsupported_parameter", "vitserve does not take model files in a load "
                        + "request ('" + name + "'): put the model's folder in --model-repository, then load it by name");
            }
        }
    }

    /** Unloads the model; completes once its engine is freed. */
    public Future<Void> unload(String name) {
        try {
            return service.unload(models.require(name).name());
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /** The settings of the repository's folder of that name (read on a worker: it looks at the disk). */
    private ModelSettings settings(String name, JsonNode changes) {
        Path folder = repositoryFolder(name).orElseThrow(() -> new ApiException(404, "unknown_model", "no model '" + name
                + "' is loaded, and " + (config.modelRepository().isEmpty()
                ? "this server has no --model-repository to load it from"
                : "--model-repository " + config.modelRepository().get() + " has no folder of that name with a config.json")));
        ModelSettings defaults = config.modelDefaults(name, folder.toString());
        try {
            return changes == null ? defaults : defaults.with(changes);
        } catch (ConfigException e) {
            throw ApiException.badRequest("invalid_config", "the config parameter is not valid: " + e.getMessage());
        }
    }

    private static JsonNode changes(String settingsJson) {
        if (settingsJson == null || settingsJson.isBlank()) {
            return null;
        }
        if (settingsJson.length() > MAX_SETTINGS_CHARS) {
            throw ApiException.badRequest("invalid_config", "the config parameter is " + settingsJson.length()
                    + " characters long; a model's settings fit in " + MAX_SETTINGS_CHARS);
        }
        JsonNode changes;
        try {
            changes = JSON.readTree(settingsJson);
        } catch (JsonProcessingException e) {
            changes = null;
        }
        if (changes == null || !changes.isObject()) {
            throw ApiException.badRequest("invalid_config", "the config parameter must be a JSON object of per-model "
                    + "settings, such as {\"threads\": 2, \"precision\": \"int8\"}");
        }
        for (String fixed : List.of("name", "model")) {
            if (changes.has(fixed)) {
                throw ApiException.badRequest("invalid_config", "the config parameter cannot set '" + fixed
                        + "': the repository's folder of that name is the model; load other models with POST /admin/models");
            }
        }
        return changes;
    }

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
