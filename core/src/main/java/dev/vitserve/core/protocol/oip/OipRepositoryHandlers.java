package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.protocol.ModelLookup;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.UnaryOperator;

/**
 * The Open Inference Protocol's model repository extension over REST on the management listener:
 * {@code POST /v2/repository/index}, {@code .../models/{m}/load} (body {@code {"parameters": {"config":
 * "<JSON of per-model settings>"}}} optional) and {@code .../unload}, each answered once done. The work
 * is {@link OipModelRepository}'s, as over gRPC; errors are {@code {"error": "..."}}.
 */
public final class OipRepositoryHandlers {

    /** The routes' model path, {@code /v2/repository/models/{name}}. */
    static final String MODEL = "^/v2/repository/models/(?<" + ModelLookup.NAME + ">[^?#]+?)";

    private final OipModelRepository repository;

    public OipRepositoryHandlers(OipModelRepository repository) {
        this.repository = repository;
    }

    /** Mounts the three routes on the management {@code router}, each {@code guarded} and its body read by {@code body}. */
    public void mount(Router router, UnaryOperator<Route> guarded, Handler<RoutingContext> body) {
        guarded.apply(router.post("/v2/repository/index").handler(ErrorResponses.PLAIN_ERRORS_HANDLER))
                .handler(body).handler(this::index);
        guarded.apply(router.postWithRegex(MODEL + "/load$").handler(ErrorResponses.PLAIN_ERRORS_HANDLER))
                .handler(body).handler(this::load);
        guarded.apply(router.postWithRegex(MODEL + "/unload$").handler(ErrorResponses.PLAIN_ERRORS_HANDLER))
                .handler(body).handler(this::unload);
    }

    /** Every model with its state; {@code {"ready": true}} keeps only those ready. */
    void index(RoutingContext ctx) {
        boolean onlyReady;
        try {
            onlyReady = body(ctx, "{\"ready\": true}").getBoolean("ready", false);
        } catch (ClassCastException e) {
            ErrorResponses.send(ctx, ApiException.badRequest("invalid_json", "'ready' must be true or false"));
            return;
        } catch (ApiException e) {
            ErrorResponses.send(ctx, e);
            return;
        }
        repository.index(onlyReady).onSuccess(models -> {
            JsonArray answer = new JsonArray();
            models.forEach(model -> answer.add(new JsonObject().put("name", model.name()).put("version", model.version())
                    .put("state", model.state()).put("reason", model.reason())));
            ctx.response().putHeader("Content-Type", "application/json").end(answer.encode());
        }).onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    /** Loads the repository's folder of that name, or reloads the model of that name; 200 once it is ready. */
    void load(RoutingContext ctx) {
        String settings;
        try {
            JsonObject parameters = body(ctx, "{\"parameters\": {\"config\": \"{\\\"threads\\\": 2}\"}}")
                    .getJsonObject("parameters", new JsonObject());
            OipModelRepository.refuseModelFiles(parameters.fieldNames());
            Object config = parameters.getValue("config");
            settings = config == null ? null : config instanceof JsonObject object ? object.encode() : config.toString();
        } catch (ClassCastException e) {
            ErrorResponses.send(ctx, ApiException.badRequest("invalid_json", "'parameters' must be a JSON object"));
            return;
        } catch (ApiException e) {
            ErrorResponses.send(ctx, e);
            return;
        }
        answer(ctx, repository.load(ModelLookup.decoded(ctx.pathParam(ModelLookup.NAME)), settings));
    }

    /** Unloads the model; 200 once its engine is freed. */
    void unload(RoutingContext ctx) {
        answer(ctx, repository.unload(ModelLookup.decoded(ctx.pathParam(ModelLookup.NAME))));
    }

    private static void answer(RoutingContext ctx, Future<Void> done) {
        done.onSuccess(v -> ctx.response().putHeader("Content-Type", "application/json").end("{}"))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    /** The body as a JSON object, empty when there is none. */
    private static JsonObject body(RoutingContext ctx, String example) {
        String body = ctx.body().asString();
        if (body == null || body.isBlank()) {
            return new JsonObject();
        }
        try {
            return new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
            throw ApiException.badRequest("invalid_json", "the body must be a JSON object such as " + example);
        }
    }
}
