package dev.vitserve.core.explain;

import dev.vitserve.api.VitConfig;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.Classification;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceResult;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.inference.Postprocessor;
import dev.vitserve.core.inference.ScoreFunction;
import io.vertx.core.Future;
import java.util.List;

/**
 * Explains one image's classification on a model's own pipeline: attention rollout from the very engine run that
 * classifies it, or occlusion as a batch of masked tensors through the same scheduler. Nothing here decodes, batches
 * or scores in a second way.
 */
public final class Explainer {

    /** How the heatmap is made. */
    public enum Method {
        /** Attention rollout (Abnar and Zuidema 2020) from the classifying run; class-agnostic. */
        ROLLOUT,
        /** The drop of the target's score when each cell is hidden: one engine image per cell. */
        OCCLUSION;

        /** The name in requests and answers. */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /**
         * Parses {@code rollout} or {@code occlusion}.
         *
         * @throws IllegalArgumentException naming the methods there are
         */
        public static Method parse(String text) {
            for (Method method : values()) {
                if (method.id().equals(text.trim().toLowerCase(java.util.Locale.ROOT))) {
                    return method;
                }
            }
            throw new IllegalArgumentException("method must be rollout or occlusion, got '" + text + "'");
        }
    }

    /** The class explained and its score in the unmasked run. */
    public record Target(String label, int index, double score) {
    }

    /**
     * An explanation.
     *
     * @param method how it was made
     * @param heatmap relevance per cell
     * @param target the class it is about (rollout does not depend on it: it names the class of that run's answer)
     * @param classification the unmasked image's classification, from the same run as a rollout
     * @param tensor the CHW tensor the model saw
     * @param shape that tensor's shape
     * @param engineImages the images the engine ran for it: 1 for rollout, cells + 1 for occlusion
     */
    public record Explanation(Method method, Heatmap heatmap, Target target, Classification classification,
                              float[] tensor, InferenceScheduler.TensorShape shape, int engineImages) {
    }

    private final ClassificationPipeline pipeline;

    /** An explainer over a model's pipeline. */
    public Explainer(ClassificationPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** The grid of patch tokens a ViT-like network sees: a rollout's grid. */
    public static Grid patchGrid(VitConfig config) {
        int p = config.patchSize();
        return new Grid((config.imageHeight() + p - 1) / p, (config.imageWidth() + p - 1) / p);
    }

    /**
     * The default occlusion grid: the patch grid, each side at most {@link Grid#MAX_SIDE}; 8x8 for an exported network
     * of an architecture vitserve does not build (it has no patch grid vitserve knows).
     */
    public static Grid defaultOcclusionGrid(VitConfig config) {
        if (config.architecture().exported()) {
            return new Grid(Math.min(8, config.imageHeight()), Math.min(8, config.imageWidth()));
        }
        Grid patches = patchGrid(config);
        return new Grid(Math.min(Grid.MAX_SIDE, patches.rows()), Math.min(Grid.MAX_SIDE, patches.cols()));
    }

    /**
     * Explains one encoded image.
     *
     * @param grid the cells (for rollout, the patch grid)
     * @param target the class index to explain, or null for the top-1 of the unmasked run
     * @param topK how many predictions the classification keeps
     * @return fails as classify does (bad image, overload), or when a wave of masked images finds the queue full
     */
    public Future<Explanation> explain(byte[] image, RequestPixels pixels, Method method, Grid grid, Integer target,
                                       ScoreFunction function, int topK, long startNanos) {
        boolean rollout = method == Method.ROLLOUT;
        InferenceScheduler.TensorShape shape = pipeline.tensorShape();
        return pipeline.explain(image, pixels, rollout, topK, function, startNanos).compose(explained -> {
            double[] scores = Postprocessor.scores(explained.logits(), function);
            int index = target != null ? target : explained.classification().predictions().get(0).index();
            Target about = new Target(pipeline.postprocessor().label(index), index, scores[index]);
            if (rollout) {
                return Future.succeededFuture(new Explanation(method, Heatmap.of(grid, explained.rollout()), about,
                        explained.classification(), explained.tensor(), shape, 1));
            }
            Occlusion occlusion = new Occlusion(explained.tensor(), shape.channels(), shape.height(), shape.width(),
                    grid, pipeline.preprocessor().config());
            return pipeline.logitsOfTensors(grid.cells(), occlusion::masked).map(results -> new Explanation(method,
                    Heatmap.of(grid, drops(results, index, scores[index], function)), about,
                    explained.classification(), explained.tensor(), shape, grid.cells() + 1));
        });
    }

    /** The target's score minus its score in each masked run. */
    private static float[] drops(List<InferenceResult> masked, int index, double base, ScoreFunction function) {
        float[] drops = new float[masked.size()];
        for (int i = 0; i < drops.length; i++) {
            drops[i] = (float) (base - Postprocessor.scores(masked.get(i).logits(), function)[index]);
        }
        return drops;
    }
}
