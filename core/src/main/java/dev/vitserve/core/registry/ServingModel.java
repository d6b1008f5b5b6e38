package dev.vitserve.core.registry;

import dev.vitserve.api.Backend;
import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.inference.TextPipeline;
import dev.vitserve.core.model.Task;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded copy of a model, answering: what it is, the settings it was loaded with, the engine
 * running it and the path an image takes through it. Requests hold it while they use it
 * ({@link ModelEntry#use}), so that a reload or an unload frees it only once the last one is done.
 */
public final class ServingModel {

    private final ModelSettings settings;
    private final LoadedModel model;
    private final Backend backend;
    private final InferenceScheduler scheduler;
    private final ClassificationPipeline pipeline;
    private final long weightsBytes;
    private final Optional<TextPipeline> text;
    private final AtomicInteger users = new AtomicInteger();
    private volatile boolean retired;

    /**
     * @param weightsBytes the size of the weights file the engine read, for budgeting memory
     */
    public ServingModel(ModelSettings settings, LoadedModel model, Backend backend, InferenceScheduler scheduler,
                        ClassificationPipeline pipeline, long weightsBytes) {
        this(settings, model, backend, scheduler, pipeline, weightsBytes, Optional.empty());
    }

    /** A copy whose texts go through {@code text} (a zero-shot model's). */
    public ServingModel(ModelSettings settings, LoadedModel model, Backend backend, InferenceScheduler scheduler,
                        ClassificationPipeline pipeline, long weightsBytes, Optional<TextPipeline> text) {
        this.text = text;
        this.settings = settings;
        this.model = model;
        this.backend = backend;
        this.scheduler = scheduler;
        this.pipeline = pipeline;
        this.weightsBytes = weightsBytes;
    }

    /** The settings it was loaded with; {@code settings().name()} is the name requests use. */
    public ModelSettings settings() {
        return settings;
    }

    /** What vitserve read from the folder: shape, labels, preprocessing. */
    public LoadedModel model() {
        return model;
    }

    /** The id the backend was chosen by, e.g. {@code onnx}. */
    public String backendId() {
        return settings.backend();
    }

    public Backend backend() {
        return backend;
    }

    /** The architecture as {@code /v1/models} and the OIP metadata say it: CLIPModel, SiglipModel or the classifier's. */
    public String architecture() {
        return model.files().clip().map(clip -> clip.family().className())
                .orElseGet(() -> model.files().config().architecture().describe());
    }

    /**
     * The width of the embeddings the model gives: what its network says (an exported classifier of another
     * architecture), else what its config.json says.
     */
    public int embeddingSize() {
        if (model.files().clip().isPresent()) {
            return model.embeddingDimensions();
        }
        int fromNetwork = backend.embeddingSize();
        return fromNetwork > 0 ? fromNetwork : model.files().config().embeddingSize();
    }

    public InferenceScheduler scheduler() {
        return scheduler;
    }

    /** Decode, preprocess, infer and score, for this model. */
    public ClassificationPipeline pipeline() {
        return pipeline;
    }

    /** What the model does. */
    public Task task() {
        return model.task();
    }

    /** The text side of a zero-shot model: tokenizer and text tower; empty for a classifier. */
    public Optional<TextPipeline> text() {
        return text;
    }

    /** Size of the weights file this copy's engine read: about what it keeps in memory. */
    public long weightsBytes() {
        return weightsBytes;
    }

    /** Counts one more user, unless this copy has been retired (then the caller looks the model up again). */
    boolean tryAcquire() {
        users.incrementAndGet();
        if (retired) {
            users.decrementAndGet();
            return false;
        }
        return true;
    }

    void release() {
        users.decrementAndGet();
    }

    /** Takes no more users; those holding it finish. */
    void retire() {
        retired = true;
    }

    /** Requests using it now. */
    int users() {
        return users.get();
    }

    /** Lets queued images run, then frees the engine. */
    void close() {
        scheduler.close();
        backend.close();
        model.closeText();
    }
}
