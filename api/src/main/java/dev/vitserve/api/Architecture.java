package dev.vitserve.api;

/**
 * Which Hugging Face network a {@code config.json} describes, and what that network has beyond the encoder every
 * member of the ViT family shares (patch embedding, pre-LayerNorm attention and MLP layers). Each architecture is a
 * record in {@code dev.vitserve.api.arch} holding its own settings, read from {@code config.json} by
 * {@link dev.vitserve.api.arch.Architectures}; each backend keeps its own table from these records to the code that
 * builds the network, so a new architecture touches no request path.
 */
public interface Architecture {

    /** The class {@code config.json} names in {@code architectures}, e.g. {@code ViTForImageClassification}. */
    String className();

    /** The {@code model_type} of {@code config.json}, e.g. {@code vit}. */
    String modelType();

    /**
     * Width of the vector the classifier reads, which is the model's embedding: the hidden size, or twice it when
     * the head reads two vectors side by side.
     */
    default int embeddingSize(int hiddenSize) {
        return hiddenSize;
    }

    /**
     * Whether the network takes images of another size than it was trained at ({@code image_size} of config.json):
     * then the input size is the image processor's, and the position embeddings are interpolated to it.
     */
    default boolean interpolatesPositions() {
        return false;
    }

    /**
     * Whether vitserve does not build this network but runs the model's own ONNX export
     * ({@link dev.vitserve.api.arch.Exported}): then config.json gave only the labels, and the ViT fields of
     * {@link VitConfig} (patch size, hidden size, layers...) mean nothing.
     */
    default boolean exported() {
        return false;
    }

    /** The architecture as {@code /v1/models} and the OIP metadata say it, e.g. {@code ViTForImageClassification}. */
    default String describe() {
        return className();
    }

    /**
     * Whether the network pads an image whose sides are not whole patches with zeros on the right and bottom (Swin),
     * rather than needing whole patches.
     */
    default boolean padsToWholePatches() {
        return false;
    }
}
