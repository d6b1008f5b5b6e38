package dev.vitserve.core.protocol;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.ServingModel;
import dev.vitserve.core.http.ApiException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The one place the protocol front doors turn a model name into the model serving it: the
 * Hub id (e.g. {@code google/vit-base-patch16-224}) or, for a local folder, the folder's name.
 * Today the server has one model; the lookup is what later points at a registry of many.
 */
public final class ModelLookup {

    private final ServerState state;
    private final String name;

    /** @param configuredModel the {@code --model} given: a Hub id or a folder */
    public ModelLookup(ServerState state, String configuredModel) {
        this.state = state;
        this.name = servedName(configuredModel);
    }

    /** The Hub id as given, or the folder's own name for a local folder. */
    static String servedName(String configuredModel) {
        Path path = Path.of(configuredModel);
        return Files.isDirectory(path) && path.getFileName() != null ? path.getFileName().toString() : configuredModel;
    }

    /** The names of the models this server serves, the default one first. */
    public List<String> names() {
        return List.of(name);
    }

    /** The model requests without a name go to. */
    public String defaultName() {
        return name;
    }

    /** Whether the name is one this server serves, loaded or not. */
    public boolean knows(String model) {
        return name.equals(model);
    }

    /**
     * The named model, ready to answer.
     *
     * @throws ApiException 404 for a name this server does not serve, 503 with Retry-After while it loads
     */
    public ServingModel require(String model) {
        if (!knows(model)) {
            throw new ApiException(404, "unknown_model", "unknown model '" + model + "'; this server serves "
                    + String.join(", ", names()));
        }
        ServingModel serving = state.serving();
        if (serving == null || state.draining()) {
            throw ApiException.unavailable("not_ready", "model '" + model + "' is not ready: "
                    + state.loadingStatus(), 5);
        }
        return serving;
    }

    /** Whether the named model answers now. */
    public boolean ready(String model) {
        return knows(model) && state.ready();
    }

    /** Whether the server takes requests: every model is loaded and shutdown has not begun. */
    public boolean serverReady() {
        return state.ready();
    }
}
