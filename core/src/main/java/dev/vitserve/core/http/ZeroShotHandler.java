package dev.vitserve.core.http;

import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Embedding;
import dev.vitserve.core.inference.TextPipeline;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.model.Task;
import dev.vitserve.core.model.TextTower;
import dev.vitserve.core.model.WrongTaskException;
import dev.vitserve.core.protocol.ModelLookup;
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
        if (serving.task() != Task.ZERO_SHOT_IMAGE_CLASSIFICATION || serving.text().isEmpty()) {
            throw new WrongTaskException("model '" + serving.settings().name() + "' is an image classifier with its"
                    + " own labels (" + serving.task().id() + "): it has no text tower for " + what + "; use"
                    + " /classify, or serve a CLIP or SigLIP model");
        }
        return serving.text().get();
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        Future<JsonObject> answered;
        try {
            answered = models.require(ctx).use(serving -> {
                TextPipeline text = requireZeroShot(serving, "zero-shot classification");
                TextTower scoring = serving.model().text().orElseThrow();
                return reader.read(ctx).compose(images -> {
                    ZeroShotRequest request = ZeroShotRequest.of(ctx, ctx.get(ImageRequestReader.JSON_BODY));
                    Future<TextPipeline.TextEmbeddings> texts = text.embed(request.texts());
                    Future<List<ClassifyHandler.Named<Embedding>>> embedded = ClassifyHandler.eachImage(serving, images,
                            new RequestPixels(maxRequestPixels),
                            (bytes, allowance) -> serving.pipeline().embed(bytes, allowance, false, start));
                    return Future.all(texts, embedded).map(both -> answer(serving, request, texts.result(),
                            embedded.result(), scoring));
                });
            });
        } catch (RuntimeException e) {
            ErrorResponses.fail(ctx, e);
            return;
        }
        answered.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(failure -> ErrorResponses.fail(ctx, failure));
    }

    private static JsonObject answer(ServingModel serving, ZeroShotRequest request, TextPipeline.TextEmbeddings texts,
                                     List<ClassifyHandler.Named<Embedding>> images, TextTower scoring) {
        JsonArray items = new JsonArray();
        for (ClassifyHandler.Named<Embedding> image : images) {
            double[] logits = scoring.logits(image.answer().vector(), texts.vectors());
            JsonArray predictions = new JsonArray();
            for (ZeroShotScores.Scored scored : scoring.ranked(request.labels(), logits)) {
                predictions.add(new JsonObject().put("label", scored.label()).put("score", scored.score()));
            }
            JsonArray rawLogits = new JsonArray();
            for (double logit : logits) {
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
                .put("hypothesis_template", request.template())
                .put("candidate_labels", new JsonArray(request.labels()))
                .put("results", items);
    }
}
