package dev.vitserve.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.TextEncoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CLIP model in DJL's PyTorch engine, built from {@code model.safetensors} ({@link ClipNetwork}): image runs give
 * no logits and the projected image embedding as the embedding; {@link #text} the projected text embeddings.
 */
final class ClipDjlBackend extends PyTorchBackend implements TextEncoder {

    private static final Logger LOG = LoggerFactory.getLogger(ClipDjlBackend.class);

    private final ClipConfig config;
    private final ClipNetwork network;
    /** Each calling thread's direct buffer for pixels (PyTorch wraps it without a copy; see DjlBackend). */
    private final ThreadLocal<ByteBuffer> staging = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));

    private ClipDjlBackend(String modelName, ClipConfig config, ClipNetwork network, Path weightsFile, Device device,
                           String engine, NetworkBuild build) {
        super(modelName, weightsFile, device, engine, build);
        this.config = config;
        this.network = network;
    }

    /**
     * Builds both towers on the device the options ask for.
     *
     * @throws BackendException when there are no safetensors weights, they do not fit config.json, or the device
     *     cannot be used
     */
    static ClipDjlBackend open(ModelFiles files, BackendOptions options) throws BackendException {
        ClipConfig config = files.clip().orElseThrow();
        if (files.weights().isEmpty()) {
            throw new BackendException("no model.safetensors for CLIP model " + files.name() + " in "
                    + files.directory().toAbsolutePath() + ": vitserve builds CLIP's two towers from its safetensors"
                    + " weights");
        }
        Engine pytorch = PyTorchRuntime.start(options.threads());
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(options.device(), PyTorchRuntime.hasCuda(pytorch),
                pytorch.getGpuCount());
        int threads = PyTorchRuntime.intraOpThreads();
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", PyTorch " + pytorch.getVersion())
                : Device.cpu("CPU, " + threads + " intra-op thread" + (threads == 1 ? "" : "s") + ", PyTorch "
                        + pytorch.getVersion());
        long start = System.nanoTime();
        ClipNetwork network = ClipNetwork.build(config, files.weights().get(),
                choice.isGpu() ? ai.djl.Device.gpu(choice.gpuIndex()) : ai.djl.Device.cpu());
        NetworkBuild build = NetworkBuild.fp32((System.nanoTime() - start) / 1_000_000);
        String engine = "DJL " + Engine.getDjlVersion() + " with PyTorch " + pytorch.getVersion();
        LOG.info("{} built the image and text towers of CLIP model {} from {} on {} in {} ms [{}]", engine, files.name(),
                files.weights().get().file(), device, build.loadMillis(), choice.reason());
        return new ClipDjlBackend(files.name(), config, network, files.weights().get().file(), device, engine, build);
    }

    @Override
    public Logits infer(PixelBatch batch) throws BackendException {
        config.vision().requireImageShape(batch);
        return guarded(() -> {
            try (NDManager call = network.manager().newSubManager()) {
                int bytes = batch.pixels().remaining() * Float.BYTES;
                ByteBuffer buffer = staging.get();
                if (buffer.capacity() < bytes) {
                    buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
                    staging.set(buffer);
                }
                buffer.clear().limit(bytes);
                buffer.asFloatBuffer().put(batch.pixels().duplicate());
                NDArray pixels = call.create(buffer, new Shape(batch.shape()), DataType.FLOAT32);
                float[] embeds = network.images(pixels).toType(DataType.FLOAT32, false).toFloatArray();
                return new Logits(new float[0], batch.batchSize(), 0, embeds, config.projectionDim());
            }
        }, batch.batchSize());
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
        return guarded(() -> {
            try (NDManager call = network.manager().newSubManager()) {
                return network.texts(call, ids, batchSize, length).toType(DataType.FLOAT32, false).toFloatArray();
            }
        }, batchSize);
    }

    private interface Run<T> {
        T run();
    }

    /** A run while the backend is open; whatever fails in it (a closed backend too) as a BackendException. */
    private <T> T guarded(Run<T> run, int batchSize) throws BackendException {
        try {
            return whileOpen(run::run);
        } catch (RuntimeException e) {
            throw new BackendException("PyTorch failed on a batch of " + batchSize + " for " + modelName() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public int dimensions() {
        return config.projectionDim();
    }

    @Override
    public Optional<TextEncoder> text() {
        return Optional.of(this);
    }

    @Override
    public boolean embeds() {
        return true;
    }

    @Override
    void closeNetwork() {
        network.close();
    }
}
