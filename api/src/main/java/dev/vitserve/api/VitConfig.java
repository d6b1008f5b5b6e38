package dev.vitserve.api;

/**
 * The shape of a Vision Transformer, as {@code config.json} describes it; enough to check
 * an exported network's input and output, or to build the network from its weights.
 *
 * @param imageHeight input height the network was trained at
 * @param imageWidth input width
 * @param numChannels input channels (3 for RGB)
 * @param patchSize side of a square patch
 * @param hiddenSize width of the transformer
 * @param numLayers number of encoder layers
 * @param numHeads attention heads per layer
 * @param intermediateSize width of the MLP inside each layer
 * @param layerNormEps epsilon of every LayerNorm
 * @param qkvBias whether query, key and value projections have a bias
 * @param numLabels number of classes the classifier scores
 * @param hiddenAct the MLP's activation as config.json names it ({@code gelu} is exact erf GELU)
 * @param architecture which network of the ViT family this is, with its own settings
 */
public record VitConfig(int imageHeight, int imageWidth, int numChannels, int patchSize, int hiddenSize,
                        int numLayers, int numHeads, int intermediateSize, double layerNormEps,
                        boolean qkvBias, int numLabels, String hiddenAct, Architecture architecture) {

    /** A {@code ViTForImageClassification}. */
    public VitConfig(int imageHeight, int imageWidth, int numChannels, int patchSize, int hiddenSize,
                     int numLayers, int numHeads, int intermediateSize, double layerNormEps,
                     boolean qkvBias, int numLabels, String hiddenAct) {
        this(imageHeight, imageWidth, numChannels, patchSize, hiddenSize, numLayers, numHeads, intermediateSize,
                layerNormEps, qkvBias, numLabels, hiddenAct, dev.vitserve.api.arch.Vit.INSTANCE);
    }

    /** A ViT with the exact GELU of the Google checkpoints. */
    public VitConfig(int imageHeight, int imageWidth, int numChannels, int patchSize, int hiddenSize,
                     int numLayers, int numHeads, int intermediateSize, double layerNormEps,
                     boolean qkvBias, int numLabels) {
        this(imageHeight, imageWidth, numChannels, patchSize, hiddenSize, numLayers, numHeads, intermediateSize,
                layerNormEps, qkvBias, numLabels, "gelu");
    }

    /**
     * The input and output of a network vitserve does not build but runs from its ONNX export: the ViT fields are
     * placeholders (patch 1, hidden size 1, one layer and head), which nothing reads for such a network.
     *
     * @param architecture an architecture whose {@link Architecture#exported()} is true
     */
    public static VitConfig exported(int imageHeight, int imageWidth, int numChannels, int numLabels,
                                     Architecture architecture) {
        if (!architecture.exported()) {
            throw new IllegalArgumentException(architecture.className() + " is built by vitserve, not exported");
        }
        return new VitConfig(imageHeight, imageWidth, numChannels, 1, 1, 1, 1, 1, 1e-12, true, numLabels, "none",
                architecture);
    }

    public VitConfig {
        java.util.Objects.requireNonNull(hiddenAct, "hiddenAct");
        java.util.Objects.requireNonNull(architecture, "architecture");
        positive("image height", imageHeight);
        positive("image width", imageWidth);
        positive("num_channels", numChannels);
        positive("patch_size", patchSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("intermediate_size", intermediateSize);
        positive("number of labels", numLabels);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numHeads);
        }
        if ((imageHeight % patchSize != 0 || imageWidth % patchSize != 0) && !architecture.padsToWholePatches()) {
            throw new IllegalArgumentException("image size " + imageHeight + "x" + imageWidth
                    + " is not a multiple of patch_size " + patchSize);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be positive, got " + layerNormEps);
        }
    }

    /** Patches per image, not counting the class token (a partial patch counts when the network pads to whole ones). */
    public int numPatches() {
        return ((imageHeight + patchSize - 1) / patchSize) * ((imageWidth + patchSize - 1) / patchSize);
    }

    /** Width of the embedding: the vector the classifier reads ({@link Architecture#embeddingSize}). */
    public int embeddingSize() {
        return architecture.embeddingSize(hiddenSize);
    }

    /** The same network taking images of another size (an architecture that interpolates its positions). */
    public VitConfig withImageSize(int height, int width) {
        return new VitConfig(height, width, numChannels, patchSize, hiddenSize, numLayers, numHeads, intermediateSize,
                layerNormEps, qkvBias, numLabels, hiddenAct, architecture);
    }

    /** The same shape as another architecture. */
    public VitConfig withArchitecture(Architecture other) {
        return new VitConfig(imageHeight, imageWidth, numChannels, patchSize, hiddenSize, numLayers, numHeads,
                intermediateSize, layerNormEps, qkvBias, numLabels, hiddenAct, other);
    }

    /** Width of one attention head. */
    public int headSize() {
        return hiddenSize / numHeads;
    }

    /**
     * Refuses a batch whose images are not this model's channels, height and width.
     *
     * @throws IllegalArgumentException naming both shapes
     */
    public void requireImageShape(PixelBatch batch) {
        if (batch.channels() != numChannels || batch.height() != imageHeight || batch.width() != imageWidth) {
            throw new IllegalArgumentException("the model takes " + numChannels + "x" + imageHeight + "x" + imageWidth
                    + " images, got a batch of " + batch.channels() + "x" + batch.height() + "x" + batch.width());
        }
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
