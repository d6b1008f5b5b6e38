package dev.vitserve.core.protocol.rest;

import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ImageRequestReader;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Embedding;
import dev.vitserve.core.inference.TextPipeline;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.model.Task;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.ZeroShot;
import dev.vitserve.core.protocol.ZeroShotLabels;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * {@code POST /v1/models/{name}/zero-shot}: the images of the request exactly as classify takes them, each scored
 * against the request's {@code candidate_labels} put in {@code hypothesis_template}, as Hugging Face's
 * zero-shot-image-classification pipeline scores them: the labels sorted by the model's scores of
 * {@code logits_per_image} ({@link TextTower}: a softmax for CLIP, sigmoids for SigLIP).
 * The image embedding comes from the same path as {@code /embed} (decoding, batching), the texts' from the text tower
 * in one batch.
 */
final class ZeroShotHandler implements Handler<RoutingContext> {

    private final ModelLookup models;
    private final ImageRequestReader reader;
    private final long maxRequestPixels;

    ZeroShotHandler(ModelLookup models, ImageRequestReader reader, long maxRequestPixels) {
        this.models = models;
        this.reader = reader;
        this.maxRequestPixels = maxRequestPixels;
    }

    /** The text side of a zero-shot model; a classifier is refused with 422. */
    static TextPipeline requireZeroShot(ServingModel serving, String what) {
        return ZeroShot.requireText(serving, what);
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        Future<JsonObject> answered;
        try {
            answered = models.require(ctx).use(serving -> {
                requireZeroShot(serving, "zero-shot classification");
                return reader.read(ctx).compose(images -> {
                    ZeroShotLabels labels = ZeroShotRequest.of(ctx, ctx.get(ImageRequestReader.JSON_BODY));
                    Future<List<ClassifyHandler.Named<Embedding>>> embedded = ClassifyHandler.eachImage(serving, images,
                            new RequestPixels(maxRequestPixels),
                            (bytes, allowance) -> serving.pipeline().embed(bytes, allowance, false, start));
                    return ZeroShot.score(serving, labels, embedded, named -> named.answer().vector())
                            .map(scored -> answer(serving, scored));
                });
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static JsonObject answer(ServingModel serving, ZeroShot.Answer<ClassifyHandler.Named<Embedding>> scored) {
        TextPipeline.TextEmbeddings texts = scored.texts();
        JsonArray items = new JsonArray();
        for (ZeroShot.Scored<ClassifyHandler.Named<Embedding>> one : scored.images()) {
            ClassifyHandler.Named<Embedding> image = one.image();
            JsonArray predictions = new JsonArray();
            for (ZeroShotScores.Scored label : one.ranked()) {
                predictions.add(new JsonObject().put("label", label.label()).put("score", label.score()));
            }
            JsonArray rawLogits = new JsonArray();
            for (double logit : one.logits()) {
                rawLogits.add(logit);
            }
            items.add(new JsonObject()
                    .put("name", image.name())
                    .put("predictions", predictions)
                    .put("logits_per_image", rawLogits)
                    .put("timing_ms", ClassifyHandler.timings(image.answer().timings())
                            .put("text", Math.round((texts.tokenizeMs() + texts.inferenceMs()) * 1000) / 1000.0))
                    .put("batch_size", image.answer().timings().batchSize()));
        }
        return ClassifyHandler.about(serving)
                .put("task", Task.ZERO_SHOT_IMAGE_CLASSIFICATION.id())
                .put("hypothesis_template", scored.labels().template())
                .put("candidate_labels", new JsonArray(scored.labels().labels()))
                .put("results", items);
    }
}
