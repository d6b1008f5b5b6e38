package dev.vitserve.core.protocol;

import dev.vitserve.core.inference.TextPipeline;
import dev.vitserve.core.inference.TextPipeline.TextEmbeddings;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.model.Task;
import dev.vitserve.core.model.TextTower;
import dev.vitserve.core.model.WrongTaskException;
import dev.vitserve.core.registry.ServingModel;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The one zero-shot path every door takes (vitserve's own route, Hugging Face's and the Open Inference Protocol's):
 * the labels' texts from the model's text embedding cache or its text tower, each image's embedding from the image
 * tower through the model's pipeline (decoding, batching, as {@code /embed}), and {@link ZeroShotScores}'
 * {@code logits_per_image} and the model's scores (softmax, or SigLIP's sigmoids), sorted. A door reads its own message into {@link ZeroShotLabels} and the
 * images' futures, and writes the {@link Answer} in its own form.
 */
public final class ZeroShot {

    private ZeroShot() {
    }

    /** One image's scores: its answer from the image tower, the logits in the labels' order and the labels ranked. */
    public record Scored<T>(T image, double[] logits, List<ZeroShotScores.Scored> ranked) {
    }

    /** Every image's scores and what the texts cost. */
    public record Answer<T>(ZeroShotLabels labels, TextEmbeddings texts, List<Scored<T>> images) {
    }

    /**
     * The text side of a zero-shot model.
     *
     * @param what what the request wants, for the refusal
     * @throws WrongTaskException for a classifier (422)
     */
    public static TextPipeline requireText(ServingModel serving, String what) {
        if (serving.task() != Task.ZERO_SHOT_IMAGE_CLASSIFICATION || serving.text().isEmpty()) {
            throw new WrongTaskException("model '" + serving.settings().name() + "' is an image classifier with its"
                    + " own labels (" + serving.task().id() + "): it has no text tower for " + what + "; use"
                    + " /classify, or serve a CLIP or SigLIP model");
        }
        return serving.text().get();
    }

    /**
     * Scores the images against the labels; the texts are embedded while the images run.
     *
     * @param images the images' answers from the image tower, started by the door after it checked the labels
     * @param embedding the image embedding in one answer
     */
    public static <T> Future<Answer<T>> score(ServingModel serving, ZeroShotLabels labels, Future<List<T>> images,
                                              Function<T, float[]> embedding) {
        TextPipeline text = requireText(serving, "zero-shot classification");
        // the model's own scoring: CLIP's softmax, SigLIP's bias and sigmoids
        TextTower tower = serving.model().text().orElseThrow();
        Future<TextEmbeddings> texts = text.embed(labels.texts());
        return Future.all(texts, images).map(both -> {
            List<Scored<T>> scored = new ArrayList<>();
            for (T image : images.result()) {
                double[] logits = tower.logits(embedding.apply(image), texts.result().vectors());
                scored.add(new Scored<>(image, logits, tower.ranked(labels.labels(), logits)));
            }
            return new Answer<>(labels, texts.result(), scored);
        });
    }
}
