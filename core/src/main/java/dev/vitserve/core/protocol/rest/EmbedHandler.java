package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Embedding;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;

/**
 * {@code POST /v1/models/{name}/embed} and {@code POST /v1/embed} (the default model, or
 * {@code ?model=NAME}): the images of the request exactly as classify takes them, each answered with
 * its embedding, the final-layernormed class token the classifier reads ({@code ?normalize=true} for
 * unit length).
 */
final class EmbedHandler implements Handler<RoutingContext> {

    private final ModelLookup models;
    private final ImageRequestReader reader;
    private final long maxRequestPixels;

    /** A handler reading images with {@code reader}, all of a request's images together at most {@code maxRequestPixels}. */
    EmbedHandler(ModelLookup models, ImageRequestReader reader, long maxRequestPixels) {
        this.models = models;
        this.reader = reader;
        this.maxRequestPixels = maxRequestPixels;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        Future<JsonObject> answered;
        try {
            boolean normalize = normalize(ctx);
            answered = models.require(ctx).use(serving -> {
                requireEmbeddings(serving);
                return reader.read(ctx)
                        .compose(images -> ClassifyHandler.eachImage(serving, images,
                                new RequestPixels(maxRequestPixels),
                                (bytes, allowance) -> serving.pipeline().embed(bytes, allowance, normalize, start)))
                        .map(results -> answer(serving, normalize, results));
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static void requireEmbeddings(ServingModel serving) {
        if (!serving.backend().embeds() && serving.model().files().config().architecture().exported()) {
            throw new ApiException(422, "embeddings_unavailable", "model '" + serving.settings().name() + "' has no "
                    + "embeddings: it runs the exported network " + serving.backend().weightsFile().getFileName()
                    + " of " + serving.model().files().config().architecture().className() + ", whose classifier"
                    + " (the node writing logits) is not a Gemm or MatMul + Add on a weight vitserve can read, so the"
                    + " vector it reads cannot be found; classify works as usual");
        }
        if (!serving.backend().embeds()) {
            throw new ApiException(422, "embeddings_unavailable", "model '" + serving.settings().name() + "' runs the "
                    + "exported network " + serving.backend().weightsFile().getFileName() + ", which has no embeddings "
                    + "output; embeddings come from the network vitserve builds from model.safetensors: start the "
                    + "server with --network-from safetensors to run that network though the export is there (or "
                    + "serve a folder with config.json, preprocessor_config.json and model.safetensors only)");
        }
    }

    private static JsonObject answer(ServingModel serving, boolean normalized,
                                     List<ClassifyHandler.Named<Embedding>> results) {
        JsonArray items = new JsonArray();
        for (ClassifyHandler.Named<Embedding> result : results) {
            JsonArray vector = new JsonArray();
            for (float value : result.answer().vector()) {
                vector.add(value);
            }
            items.add(new JsonObject()
                    .put("name", result.name())
                    .put("embedding", vector)
                    .put("timing_ms", ClassifyHandler.timings(result.answer().timings()))
                    .put("batch_size", result.answer().timings().batchSize()));
        }
        return ClassifyHandler.about(serving)
                .put("dimensions", serving.embeddingSize())
                .put("normalized", normalized)
                .put("results", items);
    }

    /** {@code normalize}: true or false, default false. */
    static boolean normalize(RoutingContext ctx) {
        String value = ctx.request().getParam("normalize");
        if (value == null || value.isBlank()) {
            return false;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw ApiException.badRequest("invalid_parameter", "normalize must be true or false, got '"
                    + value + "'");
        };
    }
}
