package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.BodyReader;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.http.RequestImage;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.inference.Classification;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.Supplier;

/**
 * The original Python service's endpoint, answered exactly as it did:
 * {@code GET /predict_image_class?image_url=URL} and {@code POST /predict_image_class} with a
 * multipart field {@code image}, both giving {@code {"predicted_class": "<top label>"}}, on the default
 * model. The POST also takes the photo as the raw body, as {@code /v1/classify} does.
 */
final class CompatibilityHandlers {

    private final ModelLookup models;
    private final ImageRequestReader reader;

    CompatibilityHandlers(ModelLookup models, ImageRequestReader reader) {
        this.models = models;
        this.reader = reader;
    }

    void byUrl(RoutingContext ctx) {
        String url = ctx.request().getParam("image_url");
        if (url == null || url.isBlank()) {
            ErrorResponses.send(ctx, ApiException.badRequest("missing_parameter", "the query parameter image_url is required"));
            return;
        }
        answer(ctx, () -> reader.fetch(ctx, url));
    }

    void byUpload(RoutingContext ctx) {
        if (ImageRequestReader.isRawBody(ImageRequestReader.mediaType(ctx.request().getHeader("Content-Type")))) {
            answer(ctx, () -> reader.rawBody(ctx));
            return;
        }
        List<BodyReader.Upload> uploads = ctx.get(BodyReader.UPLOADS);
        List<BodyReader.Upload> images = uploads == null ? List.of()
                : uploads.stream().filter(upload -> upload.field().equals("image")).toList();
        if (images.size() != 1) {
            ErrorResponses.send(ctx, ApiException.badRequest("missing_field",
                    "send the photo as one multipart/form-data file field named 'image'"));
            return;
        }
        answer(ctx, () -> reader.uploads(images).map(all -> all.get(0)));
    }

    private void answer(RoutingContext ctx, Supplier<Future<RequestImage>> image) {
        long start = System.nanoTime();
        Future<Classification> classified;
        try {
            classified = models.defaultModel().use(serving -> image.get().compose(img ->
                    serving.pipeline().classify(img.bytes(), 1, serving.model().defaultFunction(), start)));
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        classified.onSuccess(result -> ctx.response().putHeader("Content-Type", "application/json")
                        .end(new JsonObject().put("predicted_class", result.predictions().get(0).label()).encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }
}
