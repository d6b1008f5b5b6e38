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
 * embedding as the embedding) and one for the text tower ({@link #text}), both built from {@code model.safetensors},
 * in float32 or int8.
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

    /** The two towers' sessions. */
    private record Towers(OrtSession vision, OrtSession text, int quantizedLinears, long quantizeNanos) {

        void close() {
            OnnxBackend.closeQuietly(vision);
            OnnxBackend.closeQuietly(text);
        }
    }

    /**
     * Builds and opens both towers on the device the options ask for: in float32, or with {@code --precision int8}
     * on the CPU with the encoders' linear layers on int8 weights, checked at load against float32
     * ({@link Int8SelfCheck}) on probe images and probe texts.
     *
     * @throws BackendException when there are no safetensors weights, the weights do not fit config.json, the device
     *     cannot be used, or the int8 towers disagree with float32 on this CPU
     */
    static ClipOnnxBackend open(ModelFiles model, BackendOptions options, OnnxDeviceSelector.CudaProbe probe)
            throws BackendException {
        return open(model, options, probe, Int8WeightRange.forThisCpu());
    }

    /** As {@link #open(ModelFiles, BackendOptions, OnnxDeviceSelector.CudaProbe)}, int8 weights within a given range. */
    static ClipOnnxBackend open(ModelFiles model, BackendOptions options, OnnxDeviceSelector.CudaProbe probe,
                                Int8WeightRange int8Range) throws BackendException {
        long start = System.nanoTime();
        ClipConfig config = model.clip().orElseThrow();
        if (model.weights().isEmpty()) {
            throw new BackendException("no model.safetensors for CLIP model " + model.name() + " in "
                    + model.directory().toAbsolutePath() + ": vitserve builds CLIP's two towers from its safetensors"
                    + " weights (exported ONNX files of CLIP are not read)");
        }
        boolean int8 = options.precision() == Precision.INT8;
        Int8WeightRange range = int8 ? int8Range : null;
        ModelWeights weights = model.weights().get();
        OnnxDeviceSelector.Choice choice = int8 ? OnnxBackend.int8Device(options.device())
                : OnnxDeviceSelector.select(options.device(), probe);
        // bf16 and fp16 are refused as for the other models; auto runs CLIP in fp32
        OnnxPrecisionSelector.check(options.precision(), choice.isGpu());
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtNativeFolder.removeAtExit();
        Towers towers = towers(environment, config, weights, range, options, choice);
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", ONNX Runtime CUDAExecutionProvider")
                : Device.cpu("CPU, " + options.threads() + " intra-op thread" + (options.threads() == 1 ? "" : "s")
                        + ", ONNX Runtime CPUExecutionProvider");
        ClipOnnxBackend backend = new ClipOnnxBackend(model.name(), config, environment, towers.vision(), towers.text(),
                weights.file(), device, NetworkBuild.fp32((System.nanoTime() - start) / 1_000_000));
        if (int8) {
            try {
                long checkStart = System.nanoTime();
                String checked = checkAgainstFloat32(backend, weights, options, range);
                long loadMillis = (System.nanoTime() - start) / 1_000_000;
                NetworkBuild build = int8Build(config, towers, range, checked, loadMillis);
                backend = new ClipOnnxBackend(model.name(), config, environment, towers.vision(), towers.text(),
                        weights.file(), device, build);
                LOG.info("int8 towers of {}: {} ms of the load quantizing {}; float32: {}; operators: {} ({} ms of the"
                        + " load checking)", model.name(), build.quantizeMillis(), build.quantizedLayers(),
                        build.floatLayers(), build.operators(), (System.nanoTime() - checkStart) / 1_000_000);
            } catch (BackendException | RuntimeException e) {
                towers.close();
                throw e;
            }
        }
        LOG.info("ONNX Runtime {} built the image and text towers of CLIP model {} from {} ({}) in {} ms on {} [{}]",
                environment.getVersion(), model.name(), weights.file(), backend.build.precision().id(),
                backend.build.loadMillis(), device, choice.reason());
        return backend;
    }

    /** Builds both towers and opens them. */
    private static Towers towers(OrtEnvironment environment, ClipConfig config, ModelWeights weights,
                                 Int8WeightRange range, BackendOptions options, OnnxDeviceSelector.Choice choice)
            throws BackendException {
        VitGraph visionGraph = ClipGraphBuilder.vision(config, weights, range);
        VitGraph textGraph = ClipGraphBuilder.text(config, weights, range);
        OrtSession vision = OnnxBackend.createSession(environment,
                new OnnxGraphSource.BuiltGraph(weights.file(), visionGraph, range), options, choice);
        try {
            OrtSession text = OnnxBackend.createSession(environment,
                    new OnnxGraphSource.BuiltGraph(weights.file(), textGraph, range), options, choice);
            return new Towers(vision, text, visionGraph.quantizedLinears() + textGraph.quantizedLinears(),
                    visionGraph.quantizeNanos() + textGraph.quantizeNanos());
        } catch (BackendException | RuntimeException e) {
            OnnxBackend.closeQuietly(vision);
            throw e;
        }
    }

    /**
     * Runs {@link Int8SelfCheck} on both int8 towers against the float32 towers built from the same weights, which are
     * closed again before this returns.
     *
     * @return what was found, for the network's description
     * @throws BackendException when they disagree
     */
    private static String checkAgainstFloat32(ClipOnnxBackend int8, ModelWeights weights, BackendOptions options,
                                              Int8WeightRange range) throws BackendException {
        Towers reference = towers(int8.environment, int8.config, weights, null, options,
                OnnxDeviceSelector.Choice.cpu("int8 check"));
        try {
            ClipOnnxBackend fp32 = new ClipOnnxBackend(int8.modelName, int8.config, int8.environment, reference.vision(),
                    reference.text(), int8.weightsFile, int8.device, NetworkBuild.fp32(0));
            Int8SelfCheck.Outcome image = Int8SelfCheck.verify(int8.modelName, int8.config.vision(),
                    Int8SelfCheck.probeImages(int8.config.vision(), options.maxBatchSize()), fp32::infer, int8::infer,
                    range.reason());
            Int8SelfCheck.Outcome text = Int8SelfCheck.verifyText(int8.modelName, int8.config, fp32, int8,
                    range.reason());
            return "image tower " + image.describe() + "; text tower " + text.describe();
        } finally {
            reference.close();
        }
    }

    /** What the int8 towers are, for the log and {@code GET /v1/models}. */
    private static NetworkBuild int8Build(ClipConfig config, Towers towers, Int8WeightRange range, String checked,
                                          long loadMillis) {
        boolean siglip = config.family() == ClipConfig.Family.SIGLIP;
        return new NetworkBuild(Precision.INT8, towers.quantizedLinears() + " linear layers of the image and text"
                + " encoders (query, key, value, attention output, fc1 and fc2 in each layer of each tower): "
                + QuantizedLinears.encoding(range),
                (siglip ? "patch embedding, position and token embeddings" : "patch embedding, class, position and token"
                        + " embeddings") + ", layer norms, attention scores and softmax, activations, "
                        + (siglip ? "the image tower's attention-pooling head, the text head"
                                : "end-of-text pooling, visual and text projections"),
                QuantizedLinears.operators(range) + "; " + checked, loadMillis, Math.round(towers.quantizeNanos() / 1e6));
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
