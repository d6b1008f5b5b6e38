package dev.vitserve.api;

import java.nio.file.Path;

/**
 * A loaded model that maps batches of preprocessed pixels to logits.
 * Implementations must allow {@link #infer} from several threads at once.
 */
public interface Backend extends AutoCloseable {

    /**
     * Runs the network on a batch.
     *
     * @return one row of {@code numLabels} logits per image, in batch order, and their embeddings when
     *     {@link #embeds()}
     * @throws BackendException when the engine fails; never for a valid batch of the model's shape
     */
    Logits infer(PixelBatch batch) throws BackendException;

    /**
     * Runs the network on a batch and, when {@code rollout} is set, also gives each image's attention rollout from the
     * same run ({@link Logits#rollout}); a backend computes it only when asked.
     *
     * @throws BackendException when the engine fails, or a rollout is asked of a backend that cannot give one
     *     ({@link #rollsOut()} false)
     */
    default Logits infer(PixelBatch batch, boolean rollout) throws BackendException {
        if (rollout) {
            throw new BackendException("this network gives no attention rollout");
        }
        return infer(batch);
    }

    /**
     * Whether {@link #infer(PixelBatch, boolean)} gives an attention rollout when asked: the networks vitserve builds
     * from {@code model.safetensors} whose tokens attend globally (ViT, DeiT, BEiT, DINOv2) do; Swin (attention
     * inside shifted windows) and exported files do not.
     */
    default boolean rollsOut() {
        return false;
    }

    /**
     * Whether {@link #infer} also gives each image's embedding (the final-layernormed class token the
     * classifier reads), from the same run. Networks vitserve builds from {@code model.safetensors} do;
     * an exported file does only when it has such an output.
     */
    default boolean embeds() {
        return false;
    }

    /**
     * The text tower of a model with one (CLIP), whose image runs ({@link #infer}) then give no logits (zero labels)
     * and the projected image embedding as the embedding; empty for a classifier.
     */
    default java.util.Optional<TextEncoder> text() {
        return java.util.Optional.empty();
    }

    /**
     * The width of each embedding {@link #infer} gives, when the network says it rather than config.json (a network
     * exported from an architecture vitserve does not build: the width of its classifier's input); 0 otherwise.
     */
    default int embeddingSize() {
        return 0;
    }

    /** The device actually in use (never {@code auto}). */
    Device device();

    /** The file the weights were read from. */
    Path weightsFile();

    /** The engine and its version, for people, e.g. {@code ONNX Runtime 1.23.2}. */
    String engine();

    /** What was built: precision, which layers are quantized, load time. A backend that does not say runs fp32. */
    default NetworkBuild build() {
        return NetworkBuild.fp32(0);
    }

    /** Releases native resources; calling {@link #infer} afterwards is an error. */
    @Override
    void close();
}
