package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.inference.Embedding;
import dev.vitserve.core.inference.TextPipeline;
import dev.vitserve.core.protocol.ModelLookup;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * {@code POST /v1/models/{name}/embed-text} with {@code {"texts": [...]}}: the projected text embedding of each text
 * (CLIP's {@code get_text_features}), in the space of the image embeddings {@code /embed} gives;
 * {@code ?normalize=true} for unit length. A classifier is refused with 422.
 */
final class TextEmbedHandler implements Handler<RoutingContext> {

    private final ModelLookup models;
    private final ImageRequestReader reader;

    TextEmbedHandler(ModelLookup models, ImageRequestReader reader) {
        this.models = models;
        this.reader = reader;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Future<JsonObject> answered;
        try {
            boolean normalize = EmbedHandler.normalize(ctx);
            answered = models.require(ctx).use(serving -> {
                TextPipeline text = ZeroShotHandler.requireZeroShot(serving, "text embeddings");
                return reader.object(ctx).compose(body -> {
                    List<String> texts = ZeroShotRequest.texts(body);
                    return text.embed(texts).map(embedded -> {
                        JsonArray items = new JsonArray();
                        for (int i = 0; i < texts.size(); i++) {
                            float[] vector = embedded.vectors()[i];
                            JsonArray values = new JsonArray();
                            for (float value : normalize ? Embedding.unitLength(vector) : vector) {
                                values.add(value);
                            }
                            items.add(new JsonObject().put("text", texts.get(i)).put("embedding", values));
                        }
                        return ClassifyHandler.about(serving)
                                .put("dimensions", text.dimensions())
                                .put("normalized", normalize)
                                .put("results", items)
                                .put("timing_ms", new JsonObject()
                                        .put("tokenize", Math.round(embedded.tokenizeMs() * 1000) / 1000.0)
                                        .put("inference", Math.round(embedded.inferenceMs() * 1000) / 1000.0));
                    });
                });
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }
}
