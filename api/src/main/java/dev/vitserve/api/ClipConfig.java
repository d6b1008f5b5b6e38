package dev.vitserve.api;

import java.util.Objects;

/**
 * The shape of a Hugging Face {@code CLIPModel} or {@code SiglipModel}, from {@code config.json}'s
 * {@code text_config}, {@code vision_config} and {@code projection_dim}: two towers whose outputs share one space.
 *
 * @param vision the image tower as a ViT shape; its {@code numLabels} is {@link #projectionDim()}, the width of
 *     what an image run gives (the projected image embedding), and its {@code qkvBias} is true
 * @param text the text tower
 * @param projectionDim the width of both projections: the length of image and text embeddings
 * @param family which of the two architectures: they share the encoder layers and differ in their embeddings,
 *     pooling and heads
 */
public record ClipConfig(VitConfig vision, Text text, int projectionDim, Family family) {

    /**
     * The activations the configs name that vitserve builds: exact erf GELU, CLIP's sigmoid approximation and the tanh
     * approximation SigLIP uses ({@code gelu_pytorch_tanh}).
     */
    public static final java.util.Set<String> ACTIVATIONS = java.util.Set.of("gelu", "quick_gelu", "gelu_pytorch_tanh");

    /** The two-tower architectures built. */
    public enum Family {
        /**
         * {@code CLIPModel}: a class token and {@code pre_layrnorm} in the image tower, causal text attention pooled at
         * the end-of-text token, bias-free projections, logits {@code exp(logit_scale) * cos}, softmax scores.
         */
        CLIP,
        /**
         * {@code SiglipModel}: patches with bias and no class token, {@code post_layernorm} on every token and the
         * multihead attention pooling {@code head} (no projection); text attending both ways, pooled at the last
         * position, then the linear {@code head}; logits {@code exp(logit_scale) * cos + logit_bias}, sigmoid scores.
         */
        SIGLIP;

        /** Hugging Face's class name, e.g. {@code CLIPModel}. */
        public String className() {
            return this == CLIP ? "CLIPModel" : "SiglipModel";
        }
    }

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

    /** A CLIPModel. */
    public ClipConfig(VitConfig vision, Text text, int projectionDim) {
        this(vision, text, projectionDim, Family.CLIP);
    }

    public ClipConfig {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(vision, "vision");
        Objects.requireNonNull(text, "text");
        if (projectionDim < 1 || vision.numLabels() != projectionDim) {
            throw new IllegalArgumentException("projection_dim must be positive and the image tower's output width");
        }
    }
}
