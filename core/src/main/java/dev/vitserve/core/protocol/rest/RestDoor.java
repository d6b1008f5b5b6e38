package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.http.Door;
import dev.vitserve.core.http.DoorRoutes;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.protocol.ModelLookup;
import io.vertx.ext.web.Router;

/**
 * vitserve's own REST API ({@code /health/...}, {@code /v1/...}) and the original service's
 * {@code /predict_image_class}, whose errors are vitserve's JSON errors. A route for a new task is one
 * more handler here, mounted as the others are.
 */
public final class RestDoor implements Door {

    /** {@code /v1/models/{name}}, the name capturing every character up to the route's last part (it may hold /). */
    static final String MODEL = "^/v1/models/(?<" + ModelLookup.NAME + ">[^?#]+?)";

    private final InfoHandlers info;
    private final ClassifyHandler classify;
    private final EmbedHandler embed;
    private final ExplainHandler explain;
    private final ZeroShotHandler zeroShot;
    private final TextEmbedHandler embedText;
    private final CompatibilityHandlers compatibility;

    /** The routes of the models {@code models} finds, their images read by {@code reader}. */
    public RestDoor(ServerState state, ServerConfig config, ModelLookup models, ImageRequestReader reader) {
        info = new InfoHandlers(state, config, models);
        classify = new ClassifyHandler(models, reader, config.maxRequestPixels());
        embed = new EmbedHandler(models, reader, config.maxRequestPixels());
        explain = new ExplainHandler(models, reader, config.maxRequestPixels());
        zeroShot = new ZeroShotHandler(models, reader, config.maxRequestPixels());
        embedText = new TextEmbedHandler(models, reader);
        compatibility = new CompatibilityHandlers(models, reader);
    }

    @Override
    public void mount(Router router, DoorRoutes routes) {
        router.get("/health/live").handler(info::live);
        router.get("/health/ready").handler(info::ready);
        routes.guarded(router.get("/v1/models")).handler(info::models);
        routes.guarded(router.get("/v1/limits")).handler(info::limits);
        routes.guarded(router.getWithRegex(MODEL + "$").setName("/v1/models/{name}")).handler(info::model);
        routes.readsForm(router.postWithRegex(MODEL + "/classify$").setName("/v1/models/{name}/classify"))
                .handler(classify);
        routes.readsForm(router.post("/v1/classify")).handler(classify);
        routes.readsForm(router.postWithRegex(MODEL + "/embed$").setName("/v1/models/{name}/embed")).handler(embed);
        routes.readsForm(router.post("/v1/embed")).handler(embed);
        routes.readsForm(router.postWithRegex(MODEL + "/explain$").setName("/v1/models/{name}/explain"))
                .handler(explain);
        routes.readsForm(router.post("/v1/explain")).handler(explain);
        routes.readsForm(router.postWithRegex(MODEL + "/zero-shot$").setName("/v1/models/{name}/zero-shot"))
                .handler(zeroShot);
        routes.readsForm(router.postWithRegex(MODEL + "/embed-text$").setName("/v1/models/{name}/embed-text"))
                .handler(embedText);
        routes.admitted(router.get("/predict_image_class")).handler(compatibility::byUrl);
        routes.readsForm(router.post("/predict_image_class")).handler(compatibility::byUpload);
    }
}
