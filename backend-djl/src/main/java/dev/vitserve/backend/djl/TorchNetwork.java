package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.translate.TranslateException;

/** A ViT loaded in PyTorch on one device, mapping NCHW pixels to logits; callers use one {@link Runner} per thread. */
interface TorchNetwork extends AutoCloseable {

    /** The long-lived manager on the network's device; each call's arrays live in a child of it. */
    NDManager manager();

    /** A runner for the calling thread; the network closes every runner it handed out when it is closed. */
    Runner newRunner();

    /** Whether its runs give each image's embedding beside the logits. */
    default boolean embeds() {
        return false;
    }

    /** Whether its runs give the attention rollout when asked ({@link Runner#run(NDArray, boolean)}). */
    default boolean rollsOut() {
        return false;
    }

    /** Releases the network's native memory; runners must not be used afterwards. */
    @Override
    void close();

    /** Runs the network for one thread at a time. */
    interface Runner {

        /**
         * The logits {@code [N, numLabels]} of a batch {@code [N, C, H, W]} and, when the network {@link #embeds()},
         * then the embeddings {@code [N, hidden]} from the same run. Every array made on the way belongs to the
         * manager of {@code pixels}, so closing that manager frees them.
         */
        NDList run(NDArray pixels) throws TranslateException;

        /**
         * As {@link #run(NDArray)}; with {@code rollout}, then also each image's attention rollout over the patches
         * {@code [N, patches]}, last in the list.
         */
        default NDList run(NDArray pixels, boolean rollout) throws TranslateException {
            if (rollout) {
                throw new IllegalStateException("this network gives no attention rollout");
            }
            return run(pixels);
        }
    }
}
