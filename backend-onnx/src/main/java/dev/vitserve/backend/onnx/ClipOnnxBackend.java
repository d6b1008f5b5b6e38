package dev.vitserve.backend.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.TextEncoder;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CLIP model in ONNX Runtime: one session for the image tower ({@link #infer}: no logits, the projected image
 * embedding as the embedding) and one for the text tower ({@link #text}), both built from {@code model.safetensors}.
 */
final class ClipOnnxBackend implements Backend, TextEncoder {

    private static final Logger LOG = LoggerFactory.getLogger(ClipOnnxBackend.class);

    private final String modelName;
    private final ClipConfig config;
    private final OrtEnvironment environment;
    private final OrtSession vision;
    private final OrtSession text;
    private final Path weightsFile;
    private final Device device;
    private final NetworkBuild build;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private ClipOnnxBackend(String modelName, ClipConfig config, OrtEnvironment environment, OrtSession vision,
                            OrtSession text, Path weightsFile, Device device, NetworkBuild build) {
        this.modelName = modelName;
        this.config = config;
        this.environment = environment;
        this.vision = vision;
        this.text = text;
        this.weightsFile = weightsFile;
        this.device = device;
        this.build = build;
    }

    /**
     * Builds and opens both towers on the device the options ask for.
     *
     * @throws BackendException when there are no safetensors weights, a precision other than fp32 is asked for, the
     *     weights do not fit config.json, or the device cannot be used
     */
    static ClipOnnxBackend open(ModelFiles model, BackendOptions options, OnnxDeviceSelector.CudaProbe probe)
            throws BackendException {
        long start = System.nanoTime();
        ClipConfig config = model.clip().orElseThrow();
        if (options.precision() != Precision.FP32 && options.precision() != Precision.AUTO) {
            throw new BackendException("--precision " + options.precision().id() + " is not built for CLIP models yet;"
                    + " serve " + model.name() + " with --precision fp32");
        }
        if (model.weights().isEmpty()) {
            throw new BackendException("no model.safetensors for CLIP model " + model.name() + " in "
                    + model.directory().toAbsolutePath() + ": vitserve builds CLIP's two towers from its safetensors"
                    + " weights (exported ONNX files of CLIP are not read)");
        }
        ModelWeights weights = model.weights().get();
        OnnxDeviceSelector.Choice choice = OnnxDeviceSelector.select(options.device(), probe);
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtNativeFolder.removeAtExit();
        OnnxGraphSource.BuiltGraph visionGraph = new OnnxGraphSource.BuiltGraph(weights.file(),
                ClipGraphBuilder.vision(config, weights), null);
        OnnxGraphSource.BuiltGraph textGraph = new OnnxGraphSource.BuiltGraph(weights.file(),
                ClipGraphBuilder.text(config, weights), null);
        OrtSession vision = OnnxBackend.createSession(environment, visionGraph, options, choice);
        OrtSession text;
        try {
            text = OnnxBackend.createSession(environment, textGraph, options, choice);
        } catch (BackendException | RuntimeException e) {
            OnnxBackend.closeQuietly(vision);
            throw e;
        }
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", ONNX Runtime CUDAExecutionProvider")
                : Device.cpu("CPU, " + options.threads() + " intra-op thread" + (options.threads() == 1 ? "" : "s")
                        + ", ONNX Runtime CPUExecutionProvider");
        NetworkBuild build = NetworkBuild.fp32((System.nanoTime() - start) / 1_000_000);
        LOG.info("ONNX Runtime {} built the image and text towers of CLIP model {} from {} in {} ms on {} [{}]",
                environment.getVersion(), model.name(), weights.file(), build.loadMillis(), device, choice.reason());
        return new ClipOnnxBackend(model.name(), config, environment, vision, text, weights.file(), device, build);
    }

    @Override
    public Logits infer(PixelBatch batch) throws BackendException {
        config.vision().requireImageShape(batch);
        float[] embeds = run(vision, OnnxSignature.PIXEL_INPUT, ClipGraphBuilder.IMAGE_EMBEDS, batch.batchSize(),
                environment -> OnnxTensor.createTensor(environment, batch.pixels().duplicate(), batch.shape()));
        return new Logits(new float[0], batch.batchSize(), 0, embeds, config.projectionDim());
    }

    @Override
    public float[] encode(long[] ids, int batchSize, int length) throws BackendException {
        if (batchSize < 1 || length < 1 || (long) batchSize * length != ids.length) {
            throw new IllegalArgumentException(ids.length + " ids do not form " + batchSize + " rows of " + length);
        }
        if (length > config.text().maxPositions()) {
            throw new IllegalArgumentException("texts of " + length + " tokens are longer than the "
                    + config.text().maxPositions() + " positions of the text tower");
        }
        for (long id : ids) {
            if (id < 0 || id >= config.text().vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of "
                        + config.text().vocabSize());
            }
        }
        return run(text, ClipGraphBuilder.INPUT_IDS, ClipGraphBuilder.TEXT_EMBEDS, batchSize,
                environment -> OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), new long[] {batchSize, length}));
    }

    @Override
    public int dimensions() {
        return config.projectionDim();
    }

    @Override
    public Optional<TextEncoder> text() {
        return Optional.of(this);
    }

    private interface Input {
        OnnxTensor create(OrtEnvironment environment) throws OrtException;
    }

    private float[] run(OrtSession session, String inputName, String outputName, int batchSize, Input input)
            throws BackendException {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the ONNX Runtime backend of " + modelName + " is closed");
            }
            try (OnnxTensor tensor = input.create(environment);
                 OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
                OnnxValue output = result.get(outputName)
                        .orElseThrow(() -> new BackendException("ONNX Runtime returned no output " + outputName));
                if (!(output instanceof OnnxTensor values)
                        || !Arrays.equals(values.getInfo().getShape(), new long[] {batchSize, config.projectionDim()})) {
                    throw new BackendException("output " + outputName + " of CLIP model " + modelName + " is not a ["
                            + batchSize + ", " + config.projectionDim() + "] tensor");
                }
                return OnnxBackend.floats(values);
            } catch (OrtException e) {
                throw new BackendException("ONNX Runtime failed on a batch of " + batchSize + " for " + modelName + ": "
                        + e.getMessage(), e);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public boolean embeds() {
        return true;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Path weightsFile() {
        return weightsFile;
    }

    @Override
    public String engine() {
        return "ONNX Runtime " + environment.getVersion();
    }

    @Override
    public NetworkBuild build() {
        return build;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                OnnxBackend.closeQuietly(vision);
                OnnxBackend.closeQuietly(text);
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

}
