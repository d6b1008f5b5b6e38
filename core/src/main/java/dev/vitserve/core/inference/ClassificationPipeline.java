package dev.vitserve.core.inference;

import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.memory.MemoryBudget;
import dev.vitserve.core.model.WrongTaskException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One image's way from bytes to labelled scores: decode and preprocess on the preprocessing
 * workers, infer through the {@link InferenceScheduler}, then score on the caller's context.
 * Nothing here runs on an event loop except the final, cheap top-k.
 */
public final class ClassificationPipeline {

    private static final Logger LOG = LoggerFactory.getLogger(ClassificationPipeline.class);

    private final ImageDecoder decoder;
    private final Preprocessor preprocessor;
    private final InferenceScheduler scheduler;
    private final Postprocessor postprocessor;
    private final WorkerExecutor workers;
    private final InferenceObserver observer;
    private final PreprocessPriority priority;
    private final AtomicBoolean priorityRefused = new AtomicBoolean();
    private final MemoryBudget budget;

    /** A pipeline whose preprocessing runs on {@code workers}, each of their threads at {@code priority}. */
    public ClassificationPipeline(ImageDecoder decoder, Preprocessor preprocessor, InferenceScheduler scheduler,
                                  Postprocessor postprocessor, WorkerExecutor workers, PreprocessPriority priority,
                                  InferenceObserver observer) {
        this(decoder, preprocessor, scheduler, postprocessor, workers, priority, observer, null);
    }

    /**
     * The same, each image's tensor and resize buffers claimed from {@code budget} (null: none) before they are
     * allocated: the tensor's until its inference has run, the resize's until its tensor is written. The decoder claims
     * the decoded pixels from the same budget.
     */
    public ClassificationPipeline(ImageDecoder decoder, Preprocessor preprocessor, InferenceScheduler scheduler,
                                  Postprocessor postprocessor, WorkerExecutor workers, PreprocessPriority priority,
                                  InferenceObserver observer, MemoryBudget budget) {
        this.budget = budget;
        this.priority = priority;
        this.observer = observer;
        this.decoder = decoder;
        this.preprocessor = preprocessor;
        this.scheduler = scheduler;
        this.postprocessor = postprocessor;
        this.workers = workers;
    }

    private record Prepared(double decodeMs, double preprocessMs, float[] pixels,
                            CompletableFuture<InferenceResult> inference) {
    }

    /**
     * One image classified for an explanation, with what the explanation needs of that run.
     *
     * @param classification the top predictions and timings, as classify answers them
     * @param logits every label's logit
     * @param rollout the attention rollout over the patches from the same run, or null when not asked
     * @param tensor the CHW tensor the model saw (after EXIF, resize, crop, rescale, normalize)
     */
    public record Explained(Classification classification, float[] logits, float[] rollout, float[] tensor) {
    }

    /**
     * Classifies one encoded image.
     *
     * @param startNanos when the request began, for the total time
     * @return fails with the decoder's {@code ImageDecodeException} or {@link QueueFullException} for bad
     *     input or overload, so callers can answer 4xx/503
     */
    public Future<Classification> classify(byte[] image, int topK, ScoreFunction function, long startNanos) {
        return classify(image, null, topK, function, startNanos);
    }

    /**
     * The same for one of a request's images, whose pixels are claimed from {@code request} (all its
     * images' allowance) before they are decoded; null for no bound beyond the per-image one.
     */
    public Future<Classification> classify(byte[] image, RequestPixels request, int topK, ScoreFunction function,
                                           long startNanos) {
        if (postprocessor.numLabels() == 0) {
            return Future.failedFuture(WrongTaskException.noOwnLabels());
        }
        Context context = Vertx.currentContext();
        return prepare(image, request).compose(p -> inferred(p.inference(), context).map(result -> new Classification(
                postprocessor.top(result.logits(), topK, function), timings(p, result, startNanos))));
    }

    private static Classification.Timings timings(Prepared p, InferenceResult result, long startNanos) {
        return new Classification.Timings(p.decodeMs(), p.preprocessMs(), result.queueMs(), result.inferenceMs(),
                (System.nanoTime() - startNanos) / 1e6, result.batchSize());
    }

    /**
     * Classifies one encoded image as {@link #classify} does, keeping its tensor and all its logits for an explanation,
     * and with {@code rollout} its attention rollout from the same engine run (the caller checks first that the backend
     * rolls out).
     *
     * @return fails as {@link #classify} does
     */
    public Future<Explained> explain(byte[] image, RequestPixels request, boolean rollout, int topK,
                                     ScoreFunction function, long startNanos) {
        if (postprocessor.numLabels() == 0) {
            return Future.failedFuture(WrongTaskException.noOwnLabels());
        }
        Context context = Vertx.currentContext();
        return prepare(image, request, rollout).compose(p -> inferred(p.inference(), context).map(result ->
                new Explained(new Classification(postprocessor.top(result.logits(), topK, function),
                        timings(p, result, startNanos)), result.logits(), result.rollout(), p.pixels())));
    }

    /**
     * The logits of {@code count} tensors made by {@code tensor} on the preprocessing workers, run through the
     * scheduler in waves of at most its largest batch (so one caller holds at most that many places in the queue, and
     * other requests' images run between its waves); the results in order.
     *
     * @return fails with {@link QueueFullException} when a wave finds the queue full
     */
    public Future<List<InferenceResult>> logitsOfTensors(int count, IntFunction<float[]> tensor) {
        Context context = Vertx.currentContext();
        InferenceResult[] results = new InferenceResult[count];
        return wave(0, count, tensor, results, context).map(done -> Arrays.asList(results));
    }

    private Future<Void> wave(int from, int count, IntFunction<float[]> tensor, InferenceResult[] results,
                              Context context) {
        if (from >= count) {
            return Future.succeededFuture();
        }
        int to = Math.min(count, from + scheduler.maxBatch());
        return workers.executeBlocking(() -> {
            List<CompletableFuture<InferenceResult>> queued = new ArrayList<>();
            for (int i = from; i < to; i++) {
                queued.add(scheduler.submit(tensor.apply(i)));
            }
            return queued;
        }, false).compose(queued -> {
            List<Future<InferenceResult>> ran = new ArrayList<>();
            for (CompletableFuture<InferenceResult> one : queued) {
                ran.add(inferred(one, context));
            }
            return Future.all(ran);
        }).compose(all -> {
            for (int i = from; i < to; i++) {
                results[i] = all.resultAt(i - from);
            }
            return wave(to, count, tensor, results, context);
        });
    }

    /** The processor that makes the model's tensors, for explanations that mask or show them. */
    public Preprocessor preprocessor() {
        return preprocessor;
    }

    /**
     * The embedding of one encoded image, decoded and preprocessed exactly as {@link #classify} does, from
     * the same engine run that gives its logits. The caller checks first that the engine embeds.
     *
     * @param request the pixel allowance of the request the image is one of, or null for the per-image bound only
     * @param normalize scale it to unit length
     * @return fails as {@link #classify} does
     */
    public Future<Embedding> embed(byte[] image, RequestPixels request, boolean normalize, long startNanos) {
        Context context = Vertx.currentContext();
        return prepare(image, request).compose(p -> inferred(p.inference(), context).map(result -> new Embedding(
                normalize ? Embedding.unitLength(result.embedding()) : result.embedding(),
                new Classification.Timings(p.decodeMs(), p.preprocessMs(), result.queueMs(),
                        result.inferenceMs(), (System.nanoTime() - startNanos) / 1e6, result.batchSize()))));
    }

    /**
     * The logits of one encoded image, decoded and preprocessed exactly as {@link #classify} does
     * (EXIF, pixel limits), for the protocol front doors that answer raw tensors.
     *
     * @param request the pixel allowance of the request the image is one of, or null for the per-image bound only
     * @return fails as {@link #classify} does
     */
    public Future<InferenceResult> logits(byte[] image, RequestPixels request) {
        return logits(image, request, false);
    }

    /** As {@link #logits(byte[], RequestPixels)}, with {@code rollout} also the attention rollout of the same run. */
    public Future<InferenceResult> logits(byte[] image, RequestPixels request, boolean rollout) {
        if (postprocessor.numLabels() == 0) {
            return Future.failedFuture(WrongTaskException.noOwnLabels());
        }
        Context context = Vertx.currentContext();
        return prepare(image, request, rollout).compose(p -> inferred(p.inference(), context));
    }

    /**
     * The logits (and embedding, when the engine gives one) of one image already preprocessed by the
     * client: its CHW tensor goes straight to the
     * scheduler, whose queue bounds it like any other image.
     *
     * @param pixels exactly {@link #tensorShape()}{@code .length()} values
     * @return fails with {@link QueueFullException} on overload
     */
    public Future<InferenceResult> logitsOfTensor(float[] pixels) {
        return logitsOfTensor(pixels, false);
    }

    /** As {@link #logitsOfTensor(float[])}, with {@code rollout} also the attention rollout of the same run. */
    public Future<InferenceResult> logitsOfTensor(float[] pixels, boolean rollout) {
        if (postprocessor.numLabels() == 0) {
            return Future.failedFuture(WrongTaskException.noOwnLabels());
        }
        Context context = Vertx.currentContext();
        try {
            return inferred(scheduler.submit(pixels, rollout), context);
        } catch (QueueFullException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * The embedding of one image already preprocessed by the client (a zero-shot model's image tower, which has no
     * labels of its own), through the scheduler like any other image.
     *
     * @param pixels exactly {@link #tensorShape()}{@code .length()} values
     * @return fails with {@link QueueFullException} on overload
     */
    public Future<InferenceResult> embeddingOfTensor(float[] pixels) {
        Context context = Vertx.currentContext();
        try {
            return inferred(scheduler.submit(pixels), context);
        } catch (QueueFullException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * The embedding of one encoded image, decoded and preprocessed exactly as {@link #classify} does, with the
     * engine's answer (queue and inference times).
     *
     * @param request the pixel allowance of the request the image is one of, or null for the per-image bound only
     */
    public Future<InferenceResult> embeddingResult(byte[] image, RequestPixels request) {
        Context context = Vertx.currentContext();
        return prepare(image, request).compose(p -> inferred(p.inference(), context));
    }

    private Future<Prepared> prepare(byte[] image, RequestPixels request) {
        return prepare(image, request, false);
    }

    private Future<Prepared> prepare(byte[] image, RequestPixels request, boolean rollout) {
        return workers.executeBlocking(() -> {
            applyPriority();
            long t0 = System.nanoTime();
            long tensorBytes = 4L * preprocessor.tensorLength();
            MemoryBudget.Claim tensor = budget == null ? null : budget.claim(MemoryBudget.Kind.WORK, tensorBytes);
            if (budget != null && tensor == null) {
                throw new QueueFullException(budget.refusal("this image's tensor", tensorBytes));
            }
            try {
                float[] pixels = new float[preprocessor.tensorLength()];
                long t1;
                try (DecodedImage decoded = request == null ? decoder.decodeForPreprocessing(image)
                        : decoder.decodeForPreprocessing(image, request);
                     MemoryBudget.Claim resize = resizeClaim(decoded)) {
                    t1 = System.nanoTime();
                    preprocessor.writeTensor(decoded, FloatBuffer.wrap(pixels));
                }
                long t2 = System.nanoTime();
                observer.imagePrepared((t1 - t0) / 1e6, (t2 - t1) / 1e6);
                CompletableFuture<InferenceResult> inference = scheduler.submit(pixels, rollout);
                if (tensor != null) {
                    inference.whenComplete((result, failure) -> tensor.close());
                }
                return new Prepared((t1 - t0) / 1e6, (t2 - t1) / 1e6, pixels, inference);
            } catch (Exception | Error e) {
                if (tensor != null) {
                    tensor.close();
                }
                throw e;
            }
        }, false);
    }

    /** The resize buffers' claim for a decoded image (null without a budget); 503 when the budget is full. */
    private MemoryBudget.Claim resizeClaim(DecodedImage decoded) throws ImageDecodeException {
        if (budget == null) {
            return null;
        }
        long bytes = preprocessor.resizeBytes(decoded.width(), decoded.height());
        MemoryBudget.Claim claim = budget.claim(MemoryBudget.Kind.WORK, bytes);
        if (claim == null) {
            throw new ImageDecodeException(ImageDecodeException.Reason.BUSY, budget.refusal("resizing this image", bytes));
        }
        return claim;
    }

    /** The scheduler's result, completed on the caller's context when there is one. */
    private Future<InferenceResult> inferred(CompletableFuture<InferenceResult> inference, Context context) {
        Future<InferenceResult> inferred = context != null
                ? Future.fromCompletionStage(inference, context)
                : Future.fromCompletionStage(inference);
        return inferred.map(result -> {
            observer.imageQueued(result.queueMs());
            return result;
        });
    }

    private void applyPriority() {
        try {
            priority.applyToCurrentThread();
        } catch (RuntimeException e) {
            if (priorityRefused.compareAndSet(false, true)) {
                LOG.warn("a preprocessing thread stays at normal priority: {}", e.getMessage());
            }
        }
    }

    /** The pixels an image's header announces, without decoding it; 0 when it cannot be told. */
    public long announcedPixels(byte[] image) {
        return decoder.announcedPixels(image);
    }

    /** The number of labels, the largest useful top_k. */
    public int numLabels() {
        return postprocessor.numLabels();
    }

    /** Scores and labels logits as {@link #classify} does. */
    public Postprocessor postprocessor() {
        return postprocessor;
    }

    /** The shape of one image's tensor the model takes, CHW. */
    public InferenceScheduler.TensorShape tensorShape() {
        return scheduler.tensorShape();
    }
}
