package dev.vitserve.backend.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model loaded in ONNX Runtime: one session shared by all threads (ONNX Runtime allows concurrent
 * runs), fed straight from the batch's direct buffer.
 */
public final class OnnxBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxBackend.class);

    private final String modelName;
    private final VitConfig config;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final OnnxSignature signature;
    private final Path weightsFile;
    private final Device device;
    private final String engine;
    private final NetworkBuild build;
    /** Runs hold the read lock, {@link #close()} the write lock: a session is never closed under a run. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private OnnxBackend(ModelFiles model, OrtEnvironment environment, OrtSession session, OnnxSignature signature,
                        Path weightsFile, Device device, NetworkBuild build) {
        this.modelName = model.name();
        this.config = model.config();
        this.environment = environment;
        this.session = session;
        this.signature = signature;
        this.weightsFile = weightsFile;
        this.device = device;
        this.engine = "ONNX Runtime " + environment.getVersion();
        this.build = build;
    }

    /**
     * Loads a model on the device the options ask for.
     *
     * @throws BackendException when the network is missing or does not fit config.json, or the device cannot be used
     */
    static OnnxBackend open(ModelFiles model, BackendOptions options, OnnxDeviceSelector.CudaProbe probe)
            throws BackendException {
        return open(model, options, probe, Int8WeightRange.forThisCpu());
    }

    /** As {@link #open(ModelFiles, BackendOptions, OnnxDeviceSelector.CudaProbe)}, int8 weights within a given range. */
    static OnnxBackend open(ModelFiles model, BackendOptions options, OnnxDeviceSelector.CudaProbe probe,
                            Int8WeightRange int8Range) throws BackendException {
        if (options.precision() == Precision.AUTO) {
            boolean gpu = OnnxDeviceSelector.select(options.device(), probe).isGpu();
            return AutoPrecision.choose(OnnxPrecisionSelector.autoCandidates(gpu), (precision, reason) -> {
                OnnxBackend chosen = open(model, new BackendOptions(options.device(), options.threads(),
                        options.maxBatchSize(), precision), probe, int8Range);
                LOG.info("{}: {}", model.name(), reason);
                return new OnnxBackend(model, chosen.environment, chosen.session, chosen.signature, chosen.weightsFile,
                        chosen.device, chosen.build.withChoice(reason));
            });
        }
        long start = System.nanoTime();
        boolean int8 = options.precision() == Precision.INT8;
        OnnxDeviceSelector.Choice choice = int8 ? int8Device(options.device()) : OnnxDeviceSelector.select(options.device(), probe);
        OnnxPrecisionSelector.check(options.precision(), choice.isGpu());
        OnnxGraphSource graph = int8 ? OnnxGraphSource.locateInt8(model, int8Range)
                : OnnxGraphSource.locate(model, options.network());
        if (int8) {
            model.find(OnnxGraphSource.EXPORTED_FILES).ifPresent(exported -> LOG.info("--precision int8: {} is not used;"
                    + " the int8 network is built from {}", exported, graph.weightsFile()));
        }
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtNativeFolder.removeAtExit();
        Device device = choice.isGpu()
                ? Device.gpu(choice.gpuIndex(), "CUDA device " + choice.gpuIndex() + ", ONNX Runtime CUDAExecutionProvider")
                : Device.cpu("CPU, " + options.threads() + " intra-op thread" + (options.threads() == 1 ? "" : "s")
                        + ", ONNX Runtime CPUExecutionProvider");
        OrtSession session = createSession(environment, graph, options, choice);
        try {
            OnnxSignature signature = OnnxSignature.check(session, model.config(), graph.weightsFile());
            if (signature.fixedBatchSize() > 0 && signature.fixedBatchSize() < options.maxBatchSize()) {
                throw new BackendException("the ONNX network " + graph.weightsFile() + " takes batches of exactly "
                        + signature.fixedBatchSize() + " images, but the largest batch is set to " + options.maxBatchSize()
                        + ": lower the maximum batch size to " + signature.fixedBatchSize()
                        + " or export the network with a dynamic batch axis");
            }
            NetworkBuild build = graph.describe((System.nanoTime() - start) / 1_000_000);
            OnnxBackend backend = new OnnxBackend(model, environment, session, signature, graph.weightsFile(), device, build);
            if (int8) {
                long checkStart = System.nanoTime();
                Int8SelfCheck.Outcome checked = checkAgainstFloat32(backend, model, options, int8Range);
                long checkMillis = (System.nanoTime() - checkStart) / 1_000_000;
                build = new NetworkBuild(build.precision(), build.quantizedLayers(), build.floatLayers(),
                        build.operators() + "; " + checked.describe(), (System.nanoTime() - start) / 1_000_000,
                        build.quantizeMillis()).withCpuFeatures(String.join(" ", CpuFeatures.detect().int8Flags()));
                backend = new OnnxBackend(model, environment, session, signature, graph.weightsFile(), device, build);
                LOG.info("int8 network of {} {}: {} ms of the load, {} ms of it building and running the float32"
                        + " network", model.name(), checked.describe(), checkMillis, checkMillis - checked.millis());
            }
            LOG.info("{} loaded {} from {} ({}) in {} ms on {} [{}]", backend.engine, model.name(), graph.weightsFile(),
                    graph.origin(), build.loadMillis(), device, choice.reason());
            if (int8) {
                LOG.info("int8 network of {}: {} ms of the load quantizing {}; float32: {}; operators: {}", model.name(),
                        build.quantizeMillis(), build.quantizedLayers(), build.floatLayers(), build.operators());
            }
            return backend;
        } catch (BackendException | RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    /**
     * Runs {@link Int8SelfCheck} on a new int8 backend against the float32 network built from the same weights, which
     * is closed again before this returns.
     *
     * @throws BackendException when the two disagree
     */
    private static Int8SelfCheck.Outcome checkAgainstFloat32(OnnxBackend int8, ModelFiles model, BackendOptions options,
                                                            Int8WeightRange range) throws BackendException {
        OnnxGraphSource.BuiltGraph reference = new OnnxGraphSource.BuiltGraph(int8.weightsFile(),
                ArchitectureGraphs.build(model.config(), model.weights().orElseThrow(), null), null);
        OrtEnvironment environment = int8.environment;
        OrtSession session = createSession(environment, reference, options, OnnxDeviceSelector.Choice.cpu("int8 check"));
        try {
            OnnxBackend fp32 = new OnnxBackend(model, environment, session,
                    OnnxSignature.check(session, model.config(), reference.weightsFile()), reference.weightsFile(),
                    int8.device, NetworkBuild.fp32(0));
            return Int8SelfCheck.verify(model.name(), model.config(),
                    Int8SelfCheck.probeImages(model.config(), options.maxBatchSize()), fp32::infer, int8::infer,
                    range.reason());
        } finally {
            closeQuietly(session);
        }
    }

    /**
     * The device of an int8 network: the CPU, whose kernels ONNX Runtime's dynamic quantization operators are.
     *
     * @throws BackendException when a GPU was asked for
     */
    static OnnxDeviceSelector.Choice int8Device(DeviceRequest request) throws BackendException {
        if (request.kind() == DeviceRequest.Kind.GPU) {
            throw new BackendException("--precision int8 runs on the CPU only (ONNX Runtime's dynamic int8 operators"
                    + " have CPU kernels), but --device " + request + " asks for a GPU: use --device cpu or auto with"
                    + " int8, or --precision fp32 on the GPU");
        }
        return OnnxDeviceSelector.Choice.cpu(request.kind() == DeviceRequest.Kind.CPU ? "--device cpu"
                : "--device auto with --precision int8, which runs on the CPU only");
    }

    static OrtSession createSession(OrtEnvironment environment, OnnxGraphSource graph, BackendOptions options,
                                            OnnxDeviceSelector.Choice choice) throws BackendException {
        try (SessionOptions sessionOptions = new SessionOptions()) {
            sessionOptions.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
            sessionOptions.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
            sessionOptions.setIntraOpNumThreads(options.threads());
            sessionOptions.setInterOpNumThreads(1);
            // no busy-waiting between operations, so the server's HTTP and decoding threads get a core at once:
            // measured 2.5 to 3 ms less serving overhead per request at one client, and a shorter tail
            sessionOptions.addConfigEntry("session.intra_op.allow_spinning", "0");
            if (choice.isGpu()) {
                sessionOptions.addCUDA(choice.gpuIndex());
            }
            return graph.createSession(environment, sessionOptions);
        } catch (OrtException e) {
            throw new BackendException("ONNX Runtime cannot load " + graph.weightsFile()
                    + (choice.isGpu() ? " on CUDA device " + choice.gpuIndex() : "") + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Logits infer(PixelBatch batch) throws BackendException {
        return infer(batch, false);
    }

    @Override
    public Logits infer(PixelBatch batch, boolean rollout) throws BackendException {
        config.requireImageShape(batch);
        if (rollout && !signature.rollsOut()) {
            throw new BackendException("the ONNX network of " + modelName + " (" + weightsFile.getFileName()
                    + ") gives no attention rollout");
        }
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the ONNX Runtime backend of " + modelName + " is closed");
            }
            return run(batch, rollout);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private Logits run(PixelBatch batch, boolean rollout) throws BackendException {
        // a duplicate: the tensor reads from the buffer's position, and the caller's position stays untouched
        FloatBuffer pixels = batch.pixels().duplicate();
        long[] picked = new long[rollout ? batch.batchSize() : 0];
        for (int i = 0; i < picked.length; i++) {
            picked[i] = i;
        }
        try (OnnxTensor input = OnnxTensor.createTensor(environment, pixels, batch.shape());
             OnnxTensor explained = signature.rollsOut()
                     ? OnnxTensor.createTensor(environment, LongBuffer.wrap(picked), new long[] {picked.length}) : null;
             OrtSession.Result result = session.run(explained == null ? Map.of(signature.inputName(), input)
                     : Map.of(signature.inputName(), input, OnnxSignature.ROLLOUT_INPUT, explained))) {
            OnnxValue output = result.get(signature.outputName())
                    .orElseThrow(() -> new BackendException("ONNX Runtime returned no output " + signature.outputName()));
            if (!(output instanceof OnnxTensor)) {
                throw new BackendException("output " + signature.outputName() + " of " + weightsFile + " is not a tensor");
            }
            OnnxTensor logits = (OnnxTensor) output;
            long[] shape = logits.getInfo().getShape();
            if (shape.length != 2 || shape[0] != batch.batchSize() || shape[1] != config.numLabels()) {
                throw new BackendException("the ONNX network " + weightsFile + " returned logits of shape " + Arrays.toString(shape)
                        + " for a batch of " + batch.batchSize() + "; expected [" + batch.batchSize() + ", " + config.numLabels() + "]");
            }
            float[] embeddings = signature.embeddingsName() == null ? null
                    : floats(result, signature.embeddingsName(), batch.batchSize(), signature.embeddingsWidth());
            float[] rollouts = rollout
                    ? floats(result, OnnxSignature.ROLLOUT_OUTPUT, batch.batchSize(), config.numPatches()) : null;
            return new Logits(floats(logits), batch.batchSize(), config.numLabels(), embeddings,
                    embeddings == null ? 0 : signature.embeddingsWidth(), rollouts, rollout ? config.numPatches() : 0);
        } catch (OrtException e) {
            throw new BackendException("ONNX Runtime failed on a batch of " + batch.batchSize() + " for " + modelName
                    + ": " + e.getMessage(), e);
        }
    }

    /** The values of a [batch, width] output. */
    private float[] floats(OrtSession.Result result, String name, int batchSize, int width) throws BackendException {
        OnnxValue output = result.get(name)
                .orElseThrow(() -> new BackendException("ONNX Runtime returned no output " + name));
        if (!(output instanceof OnnxTensor tensor) || !Arrays.equals(tensor.getInfo().getShape(), new long[] {batchSize, width})) {
            throw new BackendException("output " + name + " of " + weightsFile + " is not a [" + batchSize + ", " + width
                    + "] tensor");
        }
        return floats(tensor);
    }

    /** The values of a float tensor, copied out. */
    static float[] floats(OnnxTensor tensor) {
        FloatBuffer values = tensor.getFloatBuffer();
        float[] array = new float[values.remaining()];
        values.get(array);
        return array;
    }

    @Override
    public boolean embeds() {
        return signature.embeddingsName() != null;
    }

    @Override
    public boolean rollsOut() {
        return signature.rollsOut();
    }

    @Override
    public int embeddingSize() {
        return signature.embeddingsName() != null ? signature.embeddingsWidth() : 0;
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
    public NetworkBuild build() {
        return build;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                closeQuietly(session);
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** Closes a session, logging rather than throwing when ONNX Runtime fails to. */
    static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("closing the ONNX Runtime session failed: {}", e.getMessage());
        }
    }
}
