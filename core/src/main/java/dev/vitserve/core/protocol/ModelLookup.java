package dev.vitserve.core.protocol;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.registry.ModelEntry;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The one place the front doors (vitserve's own routes and the protocol ones) turn a model name
 * into the model answering it, through the server's {@link dev.vitserve.core.registry.ModelRegistry}.
 * A request then runs on the model with {@link ModelEntry#use}, which holds its copy until the
 * answer is done.
 */
public final class ModelLookup {

    /** The path parameter model routes capture the name in ({@code (?<name>...)}). */
    public static final String NAME = "name";

    private final ServerState state;

    public ModelLookup(ServerState state) {
        this.state = state;
    }

    /** The names of the models this server holds, the default one first. */
    public List<String> names() {
        return state.models().list().stream().map(ModelEntry::name).toList();
    }

    /** The model requests without a name go to. */
    public String defaultName() {
        return defaultModel().name();
    }

    /** Whether the name is one this server holds, loaded or not. */
    public boolean knows(String model) {
        return state.models().find(model).isPresent();
    }

    /**
     * The named model (percent-encoded names too), or the default model for a null or blank name.
     *
     * @throws dev.vitserve.core.registry.ModelException {@code UNKNOWN_MODEL} (404) naming the models there are
     */
    public ModelEntry require(String model) {
        return model == null || model.isBlank() ? defaultModel() : state.models().require(decoded(model));
    }

    /**
     * The model a request names: the {@value #NAME} path parameter of {@code /v1/models/{name}/...}, else the
     * {@code model} query parameter, else the default model.
     */
    public ModelEntry require(RoutingContext ctx) {
        String name = ctx.pathParam(NAME);
        return require(name != null ? name : ctx.request().getParam("model"));
    }

    /** The default model: the first the server started with (503 before it has begun loading). */
    public ModelEntry defaultModel() {
        ModelEntry entry = state.models().defaultModel();
        if (entry == null) {
            throw ApiException.unavailable("not_ready", "the server is not ready: " + state.loadingStatus(), 5);
        }
        return entry;
    }

    /** Whether the named model answers now. */
    public boolean ready(String model) {
        return state.models().find(model).map(entry -> entry.state() == ModelEntry.State.READY).orElse(false)
                && !state.draining();
    }

    /** Whether the server takes requests: every model named at start is loaded and shutdown has not begun. */
    public boolean serverReady() {
        return state.ready();
    }

    /** A name still percent-encoded ({@code google%2Fvit-base-patch16-224}) in plain text. */
    public static String decoded(String name) {
        if (!name.contains("%")) {
            return name;
        }
        try {
            return URLDecoder.decode(name.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_parameter", "the model name is not validly percent-encoded");
        }
    }
}
