package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.util.function.Supplier;

/**
 * The plumbing every network built here from DJL NDArray ops shares: the weights' manager, the network as its own
 * runner (the forward pass keeps no state, so it runs from several threads at once), logits and embeddings, no autograd.
 */
abstract class StatelessNetwork implements TorchNetwork, TorchNetwork.Runner {

    /** Builds a network whose weights it reads into the given manager. */
    @FunctionalInterface
    interface Builder<N> {
        N build(NDManager manager) throws BackendException;
    }

    /** The only {@code hidden_act} supported: exact erf GELU, which is what PyTorch's gelu (and DJL's) computes. */
    static final String GELU = "gelu";

    private final NDManager manager;

    StatelessNetwork(NDManager manager) {
        this.manager = manager;
    }

    /**
     * Opens a manager on the device for a network's weights and builds it there; closes the manager if that fails.
     *
     * @throws BackendException when config.json asks for an activation other than gelu, or a tensor is missing or
     *     has the wrong shape (the message names it)
     */
    static <N> N build(VitConfig config, ModelWeights weights, Device device, Builder<N> builder)
            throws BackendException {
        requireGelu(config, weights);
        NDManager manager = NDManager.newBaseManager(device, PyTorchRuntime.ENGINE_NAME);
        try {
            return builder.build(manager);
        } catch (BackendException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Refuses an activation other than exact GELU, the only one the networks here are built with. */
    static void requireGelu(VitConfig config, ModelWeights weights) throws BackendException {
        if (!GELU.equals(config.hiddenAct())) {
            throw new BackendException("config.json has hidden_act '" + config.hiddenAct() + "', but the "
                    + config.architecture().className() + " the DJL backend builds from " + weights.file().getFileName()
                    + " supports only '" + GELU + "' (exact erf GELU, as Hugging Face's checkpoints use)");
        }
    }

    /**
     * One stage of a forward pass in its own {@link NDScope}: the arrays made on the way are closed when it is done,
     * all but the one it returns.
     */
    static NDArray stage(Supplier<NDArray> stage) {
        try (NDScope scope = new NDScope()) {
            NDArray result = stage.get();
            NDScope.unregister(result);
            return result;
        }
    }

    /** The query, key and value weights (or biases) stacked along the first axis; closes the three parts. */
    static NDArray fuse(NDArray query, NDArray key, NDArray value) {
        NDArray fused = NDArrays.concat(new NDList(query, key, value), 0);
        query.close();
        key.close();
        value.close();
        return fused;
    }

    @Override
    public final NDManager manager() {
        return manager;
    }

    /** The network itself: its forward pass keeps no state between calls. */
    @Override
    public final Runner newRunner() {
        return this;
    }

    @Override
    public final boolean embeds() {
        return true;
    }

    /**
     * The logits of a batch and its embeddings. Gradient recording is switched off for the calling thread during the
     * call (no weight requires a gradient either, so no graph could be recorded), then restored.
     */
    @Override
    public final NDList run(NDArray pixels) {
        return run(pixels, false);
    }

    @Override
    public final NDList run(NDArray pixels, boolean rollout) {
        boolean gradMode = JniUtils.isGradMode();
        if (gradMode) {
            JniUtils.setGradMode(false);
        }
        try {
            if (!rollout) {
                return forward(pixels);
            }
            AttentionRollout gathered = new AttentionRollout(patches());
            NDList outputs = forward(pixels, gathered);
            outputs.add(gathered.classRow());
            return outputs;
        } finally {
            if (gradMode) {
                JniUtils.setGradMode(true);
            }
        }
    }

    /** The logits {@code [N, numLabels]} and the embeddings of a batch, made in the pixels' manager. */
    abstract NDList forward(NDArray pixels);

    /**
     * As {@link #forward(NDArray)}, each layer's attention probabilities multiplied into {@code rollout}; only for a
     * network that {@link #rollsOut()}.
     */
    NDList forward(NDArray pixels, AttentionRollout rollout) {
        throw new IllegalStateException(getClass().getSimpleName() + " gives no attention rollout");
    }

    /** The patch tokens a rollout is over (the last tokens); 0 for a network that does not roll out. */
    long patches() {
        return 0;
    }

    @Override
    public boolean rollsOut() {
        return patches() > 0;
    }

    @Override
    public final void close() {
        manager.close();
    }
}
