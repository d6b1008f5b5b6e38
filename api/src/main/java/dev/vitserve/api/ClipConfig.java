package dev.vitserve.api;

import java.util.Objects;

/**
 * The shape of a Hugging Face {@code CLIPModel}, from {@code config.json}'s {@code text_config},
 * {@code vision_config} and {@code projection_dim}: two towers whose projected outputs share one space.
 *
 * @param vision the image tower as a ViT shape; its {@code numLabels} is {@link #projectionDim()}, the width of
 *     what an image run gives (the projected image embedding), and its {@code qkvBias} is true
 * @param text the text tower
 * @param projectionDim the width of both projections: the length of image and text embeddings
 */
public record ClipConfig(VitConfig vision, Text text, int projectionDim) {

    /** The activations CLIP configs name that vitserve builds: exact erf GELU and CLIP's sigmoid approximation. */
    public static final java.util.Set<String> ACTIVATIONS = java.util.Set.of("gelu", "quick_gelu");

    /**
     * The text tower ({@code CLIPTextConfig}).
     *
     * @param vocabSize rows of the token embedding
     * @param maxPositions {@code max_position_embeddings}: the longest text, special tokens included
     * @param eosTokenId the end-of-text id; {@code 2} is the value of configs made before transformers fixed it, for
     *     which the text is pooled at its largest id instead (what those models were trained with)
     */
    public record Text(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                       int maxPositions, double layerNormEps, String hiddenAct, long eosTokenId) {

        public Text {
            Objects.requireNonNull(hiddenAct, "hiddenAct");
            for (int value : new int[] {vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions}) {
                if (value < 1) {
                    throw new IllegalArgumentException("text_config: vocab_size, hidden_size, num_hidden_layers,"
                            + " num_attention_heads, intermediate_size and max_position_embeddings must be positive");
                }
            }
            if (hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("text_config: hidden_size " + hiddenSize
                        + " is not a multiple of num_attention_heads " + numHeads);
            }
            if (!(layerNormEps > 0)) {
                throw new IllegalArgumentException("text_config: layer_norm_eps must be positive, got " + layerNormEps);
            }
        }

        /** Whether the text is pooled at its largest id (configs whose eos_token_id is the legacy 2). */
        public boolean poolsAtLargestId() {
            return eosTokenId == 2;
        }

        public int headSize() {
            return hiddenSize / numHeads;
        }
    }

    public ClipConfig {
        Objects.requireNonNull(vision, "vision");
        Objects.requireNonNull(text, "text");
        if (projectionDim < 1 || vision.numLabels() != projectionDim) {
            throw new IllegalArgumentException("projection_dim must be positive and the image tower's output width");
        }
    }
}
