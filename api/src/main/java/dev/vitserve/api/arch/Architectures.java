package dev.vitserve.api.arch;

import dev.vitserve.api.VitConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The architectures vitserve builds from {@code model.safetensors}, each with the reading of its {@code config.json}
 * under the defaults of its Hugging Face config class; chosen by the config's {@code architectures} (the first
 * supported class named), else by its {@code model_type}.
 */
public final class Architectures {

    /** Reads one architecture's config.json into the network's shape. */
    @FunctionalInterface
    public interface Reader {
        VitConfig read(ConfigValues config, int numLabels);
    }

    /** One supported class: its {@code model_type} and its reader. */
    public record Entry(String className, String modelType, Reader reader) {
    }

    private static final Map<String, Entry> BY_CLASS = new LinkedHashMap<>();

    static {
        add(new Entry(Vit.CLASS_NAME, "vit", (c, labels) -> vitFamily(c, labels, Vit.INSTANCE)));
        add(new Entry(Deit.CLASS_NAME, "deit", (c, labels) -> vitFamily(c, labels, new Deit(false))));
        add(new Entry(Deit.WITH_TEACHER, "deit", (c, labels) -> vitFamily(c, labels, new Deit(true))));
        add(new Entry(Dinov2.CLASS_NAME, "dinov2", (c, labels) -> dinov2(c, labels, false)));
        add(new Entry(Dinov2.WITH_REGISTERS, "dinov2_with_registers", (c, labels) -> dinov2(c, labels, true)));
        add(new Entry(Beit.CLASS_NAME, "beit", Architectures::beit));
        add(new Entry(Swin.CLASS_NAME, "swin", Architectures::swin));
    }

    private Architectures() {
    }

    private static void add(Entry entry) {
        BY_CLASS.put(entry.className(), entry);
    }

    /** Every supported class, in the order people should read them. */
    public static List<String> supported() {
        return List.copyOf(BY_CLASS.keySet());
    }

    /** The supported classes as a sentence, for refusals. */
    public static String describeSupported() {
        return String.join(", ", supported());
    }

    /**
     * The architecture of a config.json: the first class of {@code architectures} that is supported; with no
     * {@code architectures}, the first supported class of the {@code model_type} (a missing model_type is ViT's, as
     * vitserve always took it). Hugging Face's auto classes pick the family by {@code model_type} and the class within
     * it by {@code architectures}, so the two must agree.
     *
     * @return empty when nothing named is supported
     * @throws IllegalArgumentException when the class chosen is not of the config's model_type
     */
    public static Optional<Entry> choose(ConfigValues config) {
        List<String> classes = config.texts("architectures");
        if (!classes.isEmpty()) {
            Optional<Entry> named = classes.stream().map(BY_CLASS::get).filter(java.util.Objects::nonNull).findFirst();
            if (named.isPresent() && config.has("model_type")
                    && !config.text("model_type", "").equals(named.get().modelType())) {
                throw new IllegalArgumentException("model_type '" + config.text("model_type", "") + "' disagrees with "
                        + "architectures " + classes + ": " + named.get().className() + " has model_type '"
                        + named.get().modelType() + "'; fix config.json so both name the same network");
            }
            return named;
        }
        String modelType = config.text("model_type", "vit");
        return BY_CLASS.values().stream().filter(entry -> entry.modelType().equals(modelType)).findFirst();
    }

    /**
     * ViTConfig's and DeiTConfig's keys, which have the same defaults: image_size 224, patch_size 16, hidden_size
     * 768, 12 layers and heads, intermediate_size 3072, layer_norm_eps 1e-12, qkv_bias true, hidden_act gelu.
     */
    static VitConfig vitFamily(ConfigValues c, int numLabels, dev.vitserve.api.Architecture architecture) {
        int[] image = c.pair("image_size", 224);
        return new VitConfig(image[0], image[1], c.integer("num_channels", 3), c.square("patch_size", 16),
                c.integer("hidden_size", 768), c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 12),
                c.integer("intermediate_size", 3072), c.real("layer_norm_eps", 1e-12), c.bool("qkv_bias", true),
                numLabels, c.text("hidden_act", "gelu"), architecture);
    }

    /**
     * Dinov2Config's and Dinov2WithRegistersConfig's keys: image_size 224, patch_size 14, hidden_size 768, 12 layers
     * and heads, mlp_ratio 4 (the MLP is {@code int(hidden_size * mlp_ratio)} wide), layer_norm_eps 1e-6, qkv_bias
     * true, use_swiglu_ffn false, num_register_tokens 4 (with registers). The input size is set later, from the image
     * processor.
     */
    static VitConfig dinov2(ConfigValues c, int numLabels, boolean withRegisters) {
        int[] image = c.pair("image_size", 224);
        int hidden = c.integer("hidden_size", 768);
        double ratio = c.real("mlp_ratio", 4);
        int patch = c.square("patch_size", 14);
        int registers = withRegisters ? c.integer("num_register_tokens", 4) : 0;
        Dinov2 architecture = new Dinov2(registers, withRegisters, c.bool("use_swiglu_ffn", false), image[0], image[1]);
        if (image[0] != image[1]) {
            throw new IllegalArgumentException("image_size " + image[0] + "x" + image[1] + " is not square, but "
                    + architecture.className() + " lays its position embeddings out on a square grid");
        }
        return new VitConfig(image[0], image[1], c.integer("num_channels", 3), patch, hidden,
                c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 12), (int) (hidden * ratio),
                c.real("layer_norm_eps", 1e-6), c.bool("qkv_bias", true), numLabels, c.text("hidden_act", "gelu"),
                architecture);
    }

    /**
     * BeitConfig's keys: image_size 224, patch_size 16, hidden_size 768, 12 layers and heads, intermediate_size 3072,
     * layer_norm_eps 1e-12, hidden_act gelu, use_absolute_position_embeddings false, use_relative_position_bias false,
     * use_shared_relative_position_bias false, layer_scale_init_value 0.1 (LayerScale when above 0),
     * use_mean_pooling true. BEiT has no qkv_bias: query and value always have a bias, key never.
     */
    static VitConfig beit(ConfigValues c, int numLabels) {
        int[] image = c.pair("image_size", 224);
        int patch = c.square("patch_size", 16);
        Beit architecture = new Beit(c.bool("use_relative_position_bias", false),
                c.bool("use_shared_relative_position_bias", false), c.bool("use_absolute_position_embeddings", false),
                c.real("layer_scale_init_value", 0.1) > 0, c.bool("use_mean_pooling", true));
        if ((architecture.relativePositionBias() || architecture.sharedRelativePositionBias())
                && image[0] / patch != image[1] / patch) {
            throw new IllegalArgumentException("image_size " + image[0] + "x" + image[1] + " with patch_size " + patch
                    + " makes a grid of " + image[0] / patch + "x" + image[1] / patch + " patches; vitserve builds "
                    + Beit.CLASS_NAME + " with a relative position bias on square grids only (Hugging Face resizes the"
                    + " bias table of other grids); export the model to onnx/model.onnx instead");
        }
        return new VitConfig(image[0], image[1], c.integer("num_channels", 3), patch, c.integer("hidden_size", 768),
                c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 12),
                c.integer("intermediate_size", 3072), c.real("layer_norm_eps", 1e-12), true, numLabels,
                c.text("hidden_act", "gelu"), architecture);
    }

    /**
     * SwinConfig's keys: image_size 224, patch_size 4, embed_dim 96, depths [2, 2, 6, 2], num_heads [3, 6, 12, 24],
     * window_size 7, mlp_ratio 4, qkv_bias true, layer_norm_eps 1e-5, hidden_act gelu, use_absolute_embeddings false
     * (refused when true: transformers' table then has one row more than the patches it is added to).
     */
    static VitConfig swin(ConfigValues c, int numLabels) {
        int[] image = c.pair("image_size", 224);
        int patch = c.square("patch_size", 4);
        if (c.bool("use_absolute_embeddings", false)) {
            throw new IllegalArgumentException("use_absolute_embeddings is true, but transformers' Swin cannot add its"
                    + " table (one row per patch plus one) to the patches; vitserve builds " + Swin.CLASS_NAME
                    + " without absolute embeddings only");
        }
        Swin architecture = new Swin(c.integer("embed_dim", 96), c.integers("depths", List.of(2, 2, 6, 2)),
                c.integers("num_heads", List.of(3, 6, 12, 24)), c.integer("window_size", 7), c.real("mlp_ratio", 4));
        architecture.blocks(image[0], image[1], patch);
        int features = architecture.numFeatures();
        int blocks = architecture.depths().stream().mapToInt(Integer::intValue).sum();
        return new VitConfig(image[0], image[1], c.integer("num_channels", 3), patch, features, blocks,
                architecture.heads().get(architecture.heads().size() - 1), architecture.mlpWidth(features),
                c.real("layer_norm_eps", 1e-5), c.bool("qkv_bias", true), numLabels, c.text("hidden_act", "gelu"),
                architecture);
    }
}
