package dev.vitserve.core.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ConfigException;
import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.config.VersionProvider;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.oip.OipModelRepository;
import dev.vitserve.core.protocol.oip.OipRepositoryHandlers;
import dev.vitserve.core.protocol.oip.OipRestEndpoints;
import dev.vitserve.core.protocol.rest.InfoHandlers;
import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ModelService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The management API on its own listener ({@code --admin-port}, bound to {@code --admin-host}, with
 * {@code --admin-api-key} when set): load ({@code POST /admin/models}), unload
 * ({@code DELETE /admin/models/{name}}), reload ({@code POST /admin/models/{name}/reload}) and list
 * models; and the Open Inference Protocol's model repository extension ({@code /v2/repository/...},
 * {@link OipRepositoryHandlers}). It only parses and answers; the {@link ModelService} does the work
 * off the event loop.
 */
public final class AdminVerticle extends VerticleBase {

    /** Largest admin request body: a model's settings. */
    static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Open Inference Protocol's repository routes answer its plain errors; the others vitserve's JSON errors. */
    private static final Pattern OIP_PATHS = Pattern.compile("^/v2/.*");
    private static final String MODEL = "^/admin/models/(?<" + ModelLookup.NAME + ">[^?#]+?)";

    private final ServerConfig config;
    private final ModelService service;
    private final ModelLookup models;
    private final ListenerTransport transport;
    private HttpServer server;
    private Router router;

    /** The management listener, built through the server's {@code transport} (with the API's TLS, if any). */
    public AdminVerticle(ServerConfig config, ServerState state, ModelService service, ListenerTransport transport) {
        this.config = config;
        this.transport = transport;
        this.service = service;
        this.models = new ModelLookup(state);
    }

    @Override
    public Future<?> start() {
        Router router = transport.router();
        BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY);
        ApiKeyCheck key = config.adminApiKey().map(k -> new ApiKeyCheck(k, MAX_BODY)).orElse(null);
        guarded(router.get("/admin/models"), key).handler(this::list);
        guarded(router.post("/admin/models"), key).handler(body).handler(this::load);
        guarded(router.postWithRegex(MODEL + "/reload$"), key).handler(body).handler(this::reload);
        guarded(router.getWithRegex(MODEL + "$"), key).handler(this::describe);
        guarded(router.deleteWithRegex(MODEL + "$"), key).handler(this::unload);
        // tritonclient's is_server_live() and is_server_ready() on this listener, as on the API's
        OipRestEndpoints health = new OipRestEndpoints(models, VersionProvider.version());
        router.get("/v2/health/live").handler(health::live);
        router.get("/v2/health/ready").handler(health::ready);
        OipRepositoryHandlers repository = new OipRepositoryHandlers(
                new OipModelRepository(vertx, config, service, models));
        repository.mount(router, route -> guarded(route, key), body);
        Buffer openApi = ApiVerticle.classpathFile("vitserve/admin-openapi.json");
        router.get("/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json").end(openApi));
        ErrorResponses.install(router, OIP_PATHS);
        this.router = router;
        HttpServerOptions options = new HttpServerOptions().setHttp2ClearTextEnabled(false);
        return transport.listen("management", options, config.adminHost(), config.adminPort().orElseThrow(), router)
                .onSuccess(listening -> server = listening);
    }

    @Override
    public Future<?> stop() {
        transport.closed(server);
        return Future.succeededFuture();
    }

    private static Route guarded(Route route, ApiKeyCheck key) {
        return key != null ? route.handler(key) : route;
    }

    private void list(RoutingContext ctx) {
        JsonArray all = new JsonArray();
        service.list().forEach(entry -> all.add(InfoHandlers.describe(entry)));
        json(ctx, 200, new JsonObject().put("models", all).put("max_models", config.maxModels()));
    }

    private void describe(RoutingContext ctx) {
        answer(ctx, () -> Future.succeededFuture(InfoHandlers.describe(models.require(ctx))), 200);
    }

    /** Starts a load: 202 with where to watch it, or a 4xx saying why not. */
    private void load(RoutingContext ctx) {
        answer(ctx, () -> {
            JsonNode settings = jsonBody(ctx, true);
            if (!settings.path("model").isValueNode()) {
                throw ApiException.badRequest("missing_field", "give the model to load: {\"model\": \"<Hub id or "
                        + "folder>\", \"name\": ..., and any of " + String.join(", ", ModelSettings.KEYS) + "}");
            }
            return service.load(settings(settings)).map(loading -> accepted(ctx, loading.entry()));
        }, 202);
    }

    /** Loads a new copy beside the old one, with the body's changes if any: 202. */
    private void reload(RoutingContext ctx) {
        answer(ctx, () -> {
            ModelEntry entry = models.require(ctx);
            JsonNode changes = jsonBody(ctx, false);
            return service.reload(entry.name(), changes).map(loading -> accepted(ctx, loading.entry()));
        }, 202);
    }

    /** Stops admitting requests for the model; it is freed once those in flight are done: 202. */
    private void unload(RoutingContext ctx) {
        answer(ctx, () -> {
            ModelEntry entry = models.require(ctx);
            service.unload(entry.name());
            return Future.succeededFuture(accepted(ctx, entry));
        }, 202);
    }

    private JsonObject accepted(RoutingContext ctx, ModelEntry entry) {
        String watch = "/admin/models/" + entry.name();
        ctx.response().putHeader("Location", watch);
        return InfoHandlers.describe(entry).put("watch", watch)
                .put("watch_public", "/v1/models/" + entry.name());
    }

    private ModelSettings settings(JsonNode body) {
        try {
            return config.modelDefaults("", "").with(body);
        } catch (ConfigException e) {
            throw ApiException.badRequest("invalid_parameter", e.getMessage());
        }
    }

    /** The body as a JSON object; an empty body is {} unless one is required. */
    private static JsonNode jsonBody(RoutingContext ctx, boolean required) {
        String text = ctx.body().asString();
        if (text == null || text.isBlank()) {
            if (required) {
                throw ApiException.badRequest("empty_body", "send the model's settings as a JSON object");
            }
            return JSON.createObjectNode();
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest("invalid_json", "the body must be a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw ApiException.badRequest("invalid_json", "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private interface Work {
        Future<JsonObject> run();
    }

    private static void answer(RoutingContext ctx, Work work, int status) {
        Future<JsonObject> done;
        try {
            done = work.run();
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        done.onSuccess(json -> json(ctx, status, json)).onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }

    /** The router's routes, in order (what its {@code /openapi.json} must describe). */
    List<Route> routes() {
        return router.getRoutes();
    }

    /** The port actually bound. */
    public int actualPort() {
        return server.actualPort();
    }
}
