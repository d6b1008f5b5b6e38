package dev.vitserve.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.TranslateException;
import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.NetworkChoice;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model loaded in DJL's PyTorch engine: a TorchScript network, or the ViT built from its safetensors weights. The
 * network is shared; each calling thread gets its own runner (TorchScript predictors are not thread-safe) and staging
 * buffer, and every call's arrays live in a manager closed after it.
 */
public final class DjlBackend extends PyTorchBackend {

    private static final Logger LOG = LoggerFactory.getLogger(DjlBackend.class);

    private final VitConfig config;
    private final TorchNetwork network;
    /** The network as messages name it. */
    private final String networkName;
    private final ThreadLocal<Worker> worker = new ThreadLocal<>();

    private DjlBackend(ModelFiles files, TorchNetwork network, TorchNetworkSource source, Device device, String engine) {
        super(files.name(), source.weightsFile(), device, engine, NetworkBuild.fp32(0));
        this.config = files.config();
        this.network = network;
        this.networkName = source.describe();
    }

    /**
     * Loads a model on the device the options ask for and runs one image through it to check its output.
     *
     * @throws BackendException when there is neither model.pt nor model.safetensors, the network does not fit
     *     config.json, or the device cannot be used
     */
    static DjlBackend open(ModelFiles files, BackendOptions options) throws BackendException {
        return open(files, options, CpuFeatures.detect());
    }

    /** As {@link #open(ModelFiles, BackendOptions)}, on a CPU with the given features. */
    static DjlBackend open(ModelFiles files, BackendOptions options, CpuFeatures cpu) throws BackendException {
        Engine pytorch = PyTorchRuntime.start(options.threads());
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(options.device(), PyTorchRuntime.hasCuda(pytorch),
                pytorch.getGpuCount());
        if (options.precision() == Precision.AUTO) {
            return AutoPrecision.choose(DjlPrecisionSelector.autoCandidates(choice.isGpu(), cpu), (precision, reason) ->
                    open(files, options.network(), pytorch, choice, DjlPrecisionSelector.select(precision, choice.isGpu(), cpu),
                            reason));
        }
        return open(files, options.network(), pytorch, choice,
                DjlPrecisionSelector.select(options.precision(), choice.isGpu(), cpu), "");
    }

    /** Builds or loads the network in one precision and checks it on one image; {@code auto} says why, with auto. */
    private static DjlBackend open(ModelFiles files, NetworkChoice networkChoice, Engine pytorch,
                                   DjlDeviceSelector.Choice choice, DjlPrecisionSelector.Choice precision, String auto)
            throws BackendException {
        TorchNetworkSource source = TorchNetworkSource.locate(files, networkChoice, precision.dataType() != DataType.FLOAT32);
        int threads = PyTorchRuntime.intraOpThreads();
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", PyTorch " + pytorch.getVersion())
                : Device.cpu("CPU, " + threads + " intra-op thread" + (threads == 1 ? "" : "s") + ", PyTorch "
                        + pytorch.getVersion() + " (libtorch " + (PyTorchRuntime.hasCuda(pytorch) ? "CUDA" : "CPU-only") + " build)");
        long start = System.nanoTime();
        TorchNetwork network = source.load(choice.isGpu() ? ai.djl.Device.gpu(choice.gpuIndex()) : ai.djl.Device.cpu(),
                precision.dataType());
        DjlBackend backend = new DjlBackend(files, network, source, device,
                "DJL " + Engine.getDjlVersion() + " with PyTorch " + pytorch.getVersion());
        try {
            backend.checkOutput();
        } catch (BackendException | RuntimeException e) {
            backend.close();
            throw e;
        }
        backend.built(build(precision, auto, (System.nanoTime() - start) / 1_000_000));
        LOG.info("{} loaded {} ({}: {}) in {} on {} in {} ms [{}; {}]", backend.engine(), files.name(), source.kind(),
                source.weightsFile(), precision.precision().id(), device, backend.build().loadMillis(), choice.reason(),
                auto.isEmpty() ? precision.reason() : auto);
        return backend;
    }

    /** What the network was built as, for {@code GET /v1/models}. */
    static NetworkBuild build(DjlPrecisionSelector.Choice precision, String auto, long loadMillis) {
        NetworkBuild build = precision.dataType() == DataType.FLOAT32 ? NetworkBuild.fp32(loadMillis)
                : new NetworkBuild(precision.precision(), "every layer: " + precision.dataType() + " weights and"
                        + " activations (the pixels cast on the way in, logits and embeddings back to float32)",
                        "none stored (libtorch accumulates matrix products, layer norms and softmax in float32)",
                        "libtorch " + (precision.cpuFeatures().isEmpty() ? "CUDA kernels"
                                : "CPU kernels through oneDNN (" + precision.cpuFeatures() + ")"), loadMillis, 0);
        build = build.withCpuFeatures(precision.cpuFeatures());
        return build.withChoice(auto);
    }

    /** Runs one blank image: a network whose output does not match config.json fails here, not on a request. */
    private void checkOutput() throws BackendException {
        try (NDManager manager = network.manager().newSubManager()) {
            NDArray blank = manager.zeros(new Shape(1, config.numChannels(), config.imageHeight(), config.imageWidth()));
            NDArray logits = network.newRunner().run(blank).get(0);
            if (!logits.getShape().equals(new Shape(1, config.numLabels()))) {
                throw new BackendException(networkName + " does not fit the model's config.json:"
                        + " it gives logits of shape " + logits.getShape() + " for one image, but config.json says ("
                        + "1, " + config.numLabels() + ") (" + config.numLabels() + " labels in id2label)");
            }
        } catch (TranslateException | RuntimeException e) {
            throw new BackendException(networkName + " fails on one image of the shape"
                    + " config.json gives, [1, " + config.numChannels() + ", " + config.imageHeight() + ", "
                    + config.imageWidth() + "]: " + e.getMessage(), e);
        }
    }

    @Override
    public Logits infer(PixelBatch batch) throws BackendException {
        return infer(batch, false);
    }

    @Override
    public Logits infer(PixelBatch batch, boolean rollout) throws BackendException {
        config.requireImageShape(batch);
        if (rollout && !network.rollsOut()) {
            throw new BackendException(networkName + " gives no attention rollout");
        }
        return whileOpen(() -> run(batch, rollout));
    }

    @Override
    public boolean rollsOut() {
        return network.rollsOut();
    }

    private Logits run(PixelBatch batch, boolean rollout) throws BackendException {
        Worker mine = workerOfThisThread();
        try (NDManager manager = network.manager().newSubManager()) {
            NDArray input = manager.create(mine.stage(batch.pixels()), new Shape(batch.shape()), DataType.FLOAT32);
            NDList outputs = mine.runner.run(input, rollout);
            float[] logits = floats(outputs.get(0), batch.batchSize(), config.numLabels(), "logits");
            float[] embeddings = network.embeds()
                    ? floats(outputs.get(1), batch.batchSize(), config.embeddingSize(), "embeddings") : null;
            float[] rollouts = rollout ? floats(outputs.get(outputs.size() - 1), batch.batchSize(), config.numPatches(),
                    "attention rollout") : null;
            return new Logits(logits, batch.batchSize(), config.numLabels(), embeddings,
                    embeddings == null ? 0 : config.embeddingSize(), rollouts, rollout ? config.numPatches() : 0);
        } catch (TranslateException | RuntimeException e) {
            throw new BackendException("PyTorch failed on a batch of " + batch.batchSize() + " for " + modelName() + ": "
                    + e.getMessage(), e);
        }
    }

    private float[] floats(NDArray output, int batchSize, int width, String what) throws BackendException {
        Shape expected = new Shape(batchSize, width);
        if (!output.getShape().equals(expected)) {
            throw new BackendException(networkName + " returned " + what + " of shape " + output.getShape()
                    + " for a batch of " + batchSize + "; expected " + expected);
        }
        return output.toType(DataType.FLOAT32, false).toFloatArray();
    }

    @Override
    public boolean embeds() {
        return network.embeds();
    }

    private Worker workerOfThisThread() {
        Worker mine = worker.get();
        if (mine == null) {
            mine = new Worker(network.newRunner());
            worker.set(mine);
        }
        return mine;
    }

    /**
     * What one calling thread owns: its runner, and a direct buffer the pixels are copied into. PyTorch wraps a
     * direct ByteBuffer without copying; given anything else, DJL copies into a new direct buffer on every call,
     * which only the garbage collector frees, so native memory would grow with the request rate.
     */
    private static final class Worker {

        final TorchNetwork.Runner runner;
        private ByteBuffer staging = ByteBuffer.allocateDirect(0);

        Worker(TorchNetwork.Runner runner) {
            this.runner = runner;
        }

        /** The pixels, copied into this thread's buffer (grown when a batch needs more). */
        ByteBuffer stage(FloatBuffer pixels) {
            int bytes = pixels.remaining() * Float.BYTES;
            if (staging.capacity() < bytes) {
                staging = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            }
            staging.clear().limit(bytes);
            // a duplicate, so the caller's buffer position stays untouched
            staging.asFloatBuffer().put(pixels.duplicate());
            return staging;
        }
    }

    @Override
    void closeNetwork() {
        network.close();
    }
}
