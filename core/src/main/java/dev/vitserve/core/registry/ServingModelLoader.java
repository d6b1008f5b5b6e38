package dev.vitserve.core.registry;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.hub.ModelResolver;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.inference.Postprocessor;
import dev.vitserve.core.inference.PreprocessPriority;
import dev.vitserve.core.inference.WarmUp;
import dev.vitserve.core.metrics.ModelMetrics;
import dev.vitserve.core.model.BackendRegistry;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoadException;
import dev.vitserve.core.model.ModelLoader;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.core.text.TextTokenizer;
import java.util.List;
import dev.vitserve.core.inference.TextPipeline;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a serving copy of a model from its settings: finds or downloads the folder, reads it,
 * opens the engine, warms it up, and puts a scheduler and a pipeline in front of it. Blocks; runs
 * on the model loading thread, never an event loop.
 */
final class ServingModelLoader {

    private static final Logger LOG = LoggerFactory.getLogger(ServingModelLoader.class);

    private final Vertx vertx;
    private final ServerConfig config;
    private final WorkerExecutor preprocessWorkers;
    private final PreprocessPriority preprocessPriority;
    private final dev.vitserve.core.memory.MemoryBudget budget;

    ServingModelLoader(Vertx vertx, ServerConfig config, WorkerExecutor preprocessWorkers,
                       PreprocessPriority preprocessPriority, dev.vitserve.core.memory.MemoryBudget budget) {
        this.budget = budget;
        this.vertx = vertx;
        this.config = config;
        this.preprocessWorkers = preprocessWorkers;
        this.preprocessPriority = preprocessPriority;
    }

    /** Reads the folder alone (no engine), to refuse at once what is not a ViT; a Hub id passes. */
    static void check(ModelSettings settings) throws ModelLoadException {
        if (!settings.folderLookup()) {
            return;
        }
        Path folder;
        try {
            folder = Path.of(settings.model());
        } catch (RuntimeException e) {
            return;
        }
        if (Files.isDirectory(folder)) {
            ModelLoader.load(folder, settings.model()).closeText();
        } else if (settings.model().startsWith("/") || settings.model().startsWith(".")) {
            throw new ModelLoadException("model folder " + settings.model() + " does not exist or is not a folder");
        }
    }

    /** A copy of the model, answering; {@code status} hears what it is doing. */
    ServingModel load(ModelSettings settings, ModelMetrics metrics, Consumer<String> status)
            throws ModelLoadException, BackendException {
        var provider = BackendRegistry.discover(ServingModelLoader.class.getClassLoader()).get(settings.backend());
        provider.checkPrecision(settings.precision());
        Path directory = new ModelResolver(vertx, config.hub(), status).resolve(settings.model(), settings.revision(),
                settings.folderLookup());
        status.accept("loading model " + settings.model());
        long start = System.nanoTime();
        LoadedModel model = ModelLoader.load(directory, settings.model());
        int batchBound = settings.maxBatch(settings.device().kind() != DeviceRequest.Kind.CPU);
        status.accept("starting backend " + settings.backend());
        Backend backend;
        try {
            backend = provider.open(model.files(), new BackendOptions(settings.device(), settings.threads(), batchBound,
                    settings.precision(), config.networkFrom()));
        } catch (BackendException | RuntimeException e) {
            model.closeText();
            throw e;
        }
        try {
            boolean gpu = backend.device().isGpu();
            Optional<TextPipeline> text = Optional.empty();
            if (model.text().isPresent()) {
                TextEncoder encoder = backend.text().orElseThrow(() -> new BackendException("backend "
                        + settings.backend() + " has no text tower for the zero-shot model " + settings.model()
                        + ": serve it with --backend onnx"));
                text = Optional.of(new TextPipeline(model.text().get().tokenizer(), encoder, preprocessWorkers,
                        config.textCacheSize(), metrics));
            }
            Preprocessor preprocessor = new Preprocessor(model.preprocessing());
            metrics.loaded((System.nanoTime() - start) / 1e9);
            int maxBatch = Math.min(batchBound, settings.maxBatch(gpu));
            warmUp(preprocessor, backend, maxBatch, status);
            if (model.text().isPresent() && config.warmupInferences() > 0) {
                warmUpText(model.text().get().tokenizer(), backend.text().orElseThrow());
            }
            InferenceScheduler scheduler = new InferenceScheduler(backend,
                    new InferenceScheduler.TensorShape(3, preprocessor.height(), preprocessor.width()),
                    maxBatch, settings.maxBatchDelayMs(gpu), settings.maxQueue(), config.maxQueueWait(), metrics);
            ClassificationPipeline pipeline = new ClassificationPipeline(new ImageDecoder(config.maxPixels(), config.maxDecodeMs(), budget),
                    preprocessor, scheduler, new Postprocessor(model.labels()), preprocessWorkers, preprocessPriority,
                    metrics, budget);
            return new ServingModel(settings, model, backend, scheduler, pipeline, size(backend.weightsFile()), text);
        } catch (RuntimeException | BackendException e) {
            backend.close();
            model.closeText();
            throw e;
        }
    }

    private void warmUp(Preprocessor preprocessor, Backend backend, int maxBatch, Consumer<String> status)
            throws BackendException {
        if (config.warmupInferences() == 0) {
            return;
        }
        status.accept("warming up");
        try {
            WarmUp.Report report = WarmUp.run(preprocessor, backend, config.warmupInferences(), maxBatch);
            LOG.info("warmed up in {} ms: decode + preprocess {} -> {} ms over {} runs, inference {} ms after {} runs{}",
                    Math.round(report.totalMs()), String.format("%.1f", report.firstPrepareMs()),
                    String.format("%.1f", report.lastPrepareMs()), report.preparations(),
                    String.format("%.1f", report.lastInferenceMs()), report.inferences(),
                    report.largestBatch() > 1 ? ", then a batch of " + report.largestBatch() : "");
        } catch (ImageDecodeException e) {
            throw new IllegalStateException("the generated warm-up photo could not be decoded: " + e.getMessage(), e);
        }
    }

    /** Tokenizes and runs a few label batches, so that the first zero-shot request does not pay for it. */
    private static void warmUpText(TextTokenizer tokenizer, TextEncoder encoder) throws BackendException {
        long start = System.nanoTime();
        for (List<String> texts : List.of(List.of("This is a photo of a cat."),
                List.of("This is a photo of a dog.", "This is a photo of a rocket launch at night."))) {
            TextTokenizer.Tokens tokens = tokenizer.encode(texts);
            encoder.encode(tokens.ids(), tokens.batchSize(), tokens.length());
        }
        LOG.info("text tower warmed up in {} ms", Math.round((System.nanoTime() - start) / 1e6));
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }
}
