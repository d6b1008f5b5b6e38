package dev.vitserve.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model loaded in DJL's PyTorch engine. The network is shared; each calling thread gets its own
 * {@link Predictor} (they are not thread-safe), and every call's arrays live in a manager closed after it.
 */
public final class DjlBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(DjlBackend.class);

    private final String modelName;
    private final VitConfig config;
    private final ZooModel<NDList, NDList> model;
    private final Path weightsFile;
    private final Device device;
    private final String engine;
    private final ThreadLocal<Worker> worker = new ThreadLocal<>();
    /** Every predictor handed out, so that {@link #close()} closes them all. */
    private final Queue<Predictor<NDList, NDList>> predictors = new ConcurrentLinkedQueue<>();
    /** Calls hold the read lock, {@link #close()} the write lock: nothing is closed under a running call. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private DjlBackend(ModelFiles files, ZooModel<NDList, NDList> model, Path weightsFile, Device device, String engine) {
        this.modelName = files.name();
        this.config = files.config();
        this.model = model;
        this.weightsFile = weightsFile;
        this.device = device;
        this.engine = engine;
    }

    /**
     * Loads a model on the device the options ask for and runs one image through it to check its output.
     *
     * @throws BackendException when model.pt is missing, does not fit config.json, or the device cannot be used
     */
    static DjlBackend open(ModelFiles files, BackendOptions options) throws BackendException {
        TorchNetworkSource network = TorchNetworkSource.locate(files);
        Engine pytorch = PyTorchRuntime.start(options.threads());
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(options.device(), PyTorchRuntime.hasCuda(pytorch),
                pytorch.getGpuCount());
        int threads = PyTorchRuntime.intraOpThreads();
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", PyTorch " + pytorch.getVersion())
                : Device.cpu("CPU, " + threads + " intra-op thread" + (threads == 1 ? "" : "s") + ", PyTorch "
                        + pytorch.getVersion() + " (libtorch " + (PyTorchRuntime.hasCuda(pytorch) ? "CUDA" : "CPU-only") + " build)");
        ZooModel<NDList, NDList> model = network.load(choice.isGpu() ? ai.djl.Device.gpu(choice.gpuIndex()) : ai.djl.Device.cpu());
        DjlBackend backend = new DjlBackend(files, model, network.weightsFile(), device,
                "DJL " + Engine.getDjlVersion() + " with PyTorch " + pytorch.getVersion());
        try {
            backend.checkOutput();
        } catch (BackendException | RuntimeException e) {
            backend.close();
            throw e;
        }
        LOG.info("{} loaded {} from {} on {} [{}]", backend.engine, files.name(), network.weightsFile(), device, choice.reason());
        return backend;
    }

    /** Runs one blank image: a network whose output does not match config.json fails here, not on a request. */
    private void checkOutput() throws BackendException {
        try (NDManager manager = model.getNDManager().newSubManager();
             Predictor<NDList, NDList> probe = model.newPredictor()) {
            NDArray blank = manager.zeros(new Shape(1, config.numChannels(), config.imageHeight(), config.imageWidth()));
            NDArray logits = firstOutput(probe.predict(new NDList(blank)));
            if (!logits.getShape().equals(new Shape(1, config.numLabels()))) {
                throw new BackendException("the TorchScript network " + weightsFile + " does not fit the model's config.json:"
                        + " it gives logits of shape " + logits.getShape() + " for one image, but config.json says ("
                        + "1, " + config.numLabels() + ") (" + config.numLabels() + " labels in id2label)");
            }
        } catch (TranslateException | RuntimeException e) {
            throw new BackendException("the TorchScript network " + weightsFile + " fails on one image of the shape"
                    + " config.json gives, [1, " + config.numChannels() + ", " + config.imageHeight() + ", "
                    + config.imageWidth() + "]: " + e.getMessage(), e);
        }
    }

    @Override
    public Logits infer(PixelBatch batch) throws BackendException {
        checkShape(batch);
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the DJL backend of " + modelName + " is closed");
            }
            return run(batch);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private Logits run(PixelBatch batch) throws BackendException {
        Worker mine = workerOfThisThread();
        try (NDManager manager = model.getNDManager().newSubManager()) {
            NDArray input = manager.create(mine.stage(batch.pixels()), new Shape(batch.shape()), DataType.FLOAT32);
            NDArray logits = firstOutput(mine.predictor.predict(new NDList(input)));
            Shape expected = new Shape(batch.batchSize(), config.numLabels());
            if (!logits.getShape().equals(expected)) {
                throw new BackendException("the TorchScript network " + weightsFile + " returned logits of shape "
                        + logits.getShape() + " for a batch of " + batch.batchSize() + "; expected " + expected);
            }
            return new Logits(logits.toType(DataType.FLOAT32, false).toFloatArray(), batch.batchSize(), config.numLabels());
        } catch (TranslateException | RuntimeException e) {
            throw new BackendException("PyTorch failed on a batch of " + batch.batchSize() + " for " + modelName + ": "
                    + e.getMessage(), e);
        }
    }

    private static NDArray firstOutput(NDList outputs) throws BackendException {
        if (outputs.isEmpty()) {
            throw new BackendException("the TorchScript network returned nothing");
        }
        return outputs.get(0);
    }

    private Worker workerOfThisThread() {
        Worker mine = worker.get();
        if (mine == null) {
            mine = new Worker(model.newPredictor());
            predictors.add(mine.predictor);
            worker.set(mine);
        }
        return mine;
    }

    /**
     * What one calling thread owns: its predictor, and a direct buffer the pixels are copied into. PyTorch wraps a
     * direct ByteBuffer without copying; given anything else, DJL copies into a new direct buffer on every call,
     * which only the garbage collector frees, so native memory would grow with the request rate.
     */
    private static final class Worker {

        final Predictor<NDList, NDList> predictor;
        private ByteBuffer staging = ByteBuffer.allocateDirect(0);

        Worker(Predictor<NDList, NDList> predictor) {
            this.predictor = predictor;
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

    private void checkShape(PixelBatch batch) {
        if (batch.channels() != config.numChannels() || batch.height() != config.imageHeight()
                || batch.width() != config.imageWidth()) {
            throw new IllegalArgumentException("model " + modelName + " takes " + config.numChannels() + "x"
                    + config.imageHeight() + "x" + config.imageWidth() + " images, got a batch of " + batch.channels()
                    + "x" + batch.height() + "x" + batch.width());
        }
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
        return engine;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                for (Predictor<NDList, NDList> each = predictors.poll(); each != null; each = predictors.poll()) {
                    each.close();
                }
                model.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
