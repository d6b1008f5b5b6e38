package dev.vitserve.core.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.image.PreprocessStep.CenterCrop;
import dev.vitserve.core.image.PreprocessStep.Exact;
import dev.vitserve.core.image.PreprocessStep.FlipChannels;
import dev.vitserve.core.image.PreprocessStep.Normalize;
import dev.vitserve.core.image.PreprocessStep.Offset;
import dev.vitserve.core.image.PreprocessStep.Rescale;
import dev.vitserve.core.image.PreprocessStep.Resize;
import dev.vitserve.core.image.PreprocessStep.ShortestEdge;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A Hugging Face image processor read from preprocessor_config.json: its class, its settings with the
 * class's defaults for missing keys, and the {@link #steps() steps} the slow (Pillow) processor of that
 * class applies, in its order. Immutable.
 *
 * <p>Supported classes ({@code image_processor_type}, or {@code feature_extractor_type} with
 * {@code FeatureExtractor} read as {@code ImageProcessor}, as {@code AutoImageProcessor} does; a
 * {@code ...Fast} name is read as its slow class, as {@code use_fast=False} does; neither key means
 * ViTImageProcessor): see {@link Processor}. Each class accepts the keys its {@code __init__} takes;
 * any other key, and any value its code would not run as written, is refused with a message naming it.
 * {@code size} and {@code crop_size} take every form {@code get_size_dict} accepts for that class.
 * A JSON {@code null} does what Python's {@code None} does there: a false flag, the default
 * size, crop or mean; a null {@code resample} or {@code rescale_factor} for a step that runs is refused
 * (Hugging Face refuses it too). {@code do_convert_rgb} is accepted everywhere and changes nothing:
 * the pipeline's image loading already makes RGB.
 */
public final class PreprocessorConfig {

    /** Pillow's and Hugging Face's code for BILINEAR. */
    public static final int BILINEAR = 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final float[] HALF = {0.5f, 0.5f, 0.5f};
    private static final float[] IMAGENET_DEFAULT_MEAN = floats(0.485, 0.456, 0.406);
    private static final float[] IMAGENET_DEFAULT_STD = floats(0.229, 0.224, 0.225);
    private static final float[] OPENAI_CLIP_MEAN = floats(0.48145466, 0.4578275, 0.40821073);
    private static final float[] OPENAI_CLIP_STD = floats(0.26862954, 0.26130258, 0.27577711);

    /** Keys every class accepts: what the file says about itself, and the no-op do_convert_rgb. */
    private static final Set<String> METADATA = Set.of("image_processor_type", "feature_extractor_type",
            "processor_class", "_processor_class", "do_convert_rgb");

    /** The image processor classes vitserve reproduces, with the keys each one's {@code __init__} takes. */
    public enum Processor {
        VIT("ViTImageProcessor", "do_normalize", "image_mean", "image_std"),
        DEIT("DeiTImageProcessor", "do_center_crop", "crop_size", "do_normalize", "image_mean", "image_std"),
        BEIT("BeitImageProcessor", "do_center_crop", "crop_size", "do_normalize", "image_mean", "image_std",
                "do_reduce_labels", "reduce_labels"),
        CONVNEXT("ConvNextImageProcessor", "crop_pct", "do_normalize", "image_mean", "image_std"),
        BIT("BitImageProcessor", "do_center_crop", "crop_size", "do_normalize", "image_mean", "image_std"),
        CLIP("CLIPImageProcessor", "do_center_crop", "crop_size", "do_normalize", "image_mean", "image_std"),
        SIGLIP("SiglipImageProcessor", "do_normalize", "image_mean", "image_std"),
        MOBILEVIT("MobileViTImageProcessor", "do_center_crop", "crop_size", "do_flip_channel_order",
                "do_reduce_labels"),
        EFFICIENTNET("EfficientNetImageProcessor", "do_center_crop", "crop_size", "do_normalize", "image_mean",
                "image_std", "rescale_offset", "include_top");

        private final String className;
        private final Set<String> keys;

        Processor(String className, String... own) {
            this.className = className;
            Set<String> all = new LinkedHashSet<>(List.of("do_resize", "size", "resample", "do_rescale", "rescale_factor"));
            all.addAll(List.of(own));
            this.keys = Set.copyOf(all);
        }

        /** Hugging Face's class name. */
        public String className() {
            return className;
        }

        static Optional<Processor> named(String name) {
            return Arrays.stream(values()).filter(p -> p.className.equals(name)).findFirst();
        }

        /** The supported class names, for messages. */
        public static String names() {
            StringBuilder names = new StringBuilder();
            for (Processor p : values()) {
                names.append(names.length() == 0 ? "" : ", ").append(p.className);
            }
            return names.toString();
        }
    }

    private final Processor processor;
    private final boolean doResize;
    private final PreprocessStep.Size size;
    private final ResampleFilter resample;
    private final boolean doCenterCrop;
    private final Exact cropSize;
    private final boolean doRescale;
    private final double rescaleFactor;
    private final boolean doNormalize;
    private final float[] imageMean;
    private final float[] imageStd;
    private final List<PreprocessStep> steps;
    private final Optional<Exact> fixedSize;
    private final String variableSizeReason;

    private PreprocessorConfig(Processor processor, boolean doResize, PreprocessStep.Size size, ResampleFilter resample,
            boolean doCenterCrop, Exact cropSize, boolean doRescale, double rescaleFactor, boolean doNormalize,
            float[] imageMean, float[] imageStd, List<PreprocessStep> steps, Exact fixedSize, String variableSizeReason) {
        this.processor = processor;
        this.doResize = doResize;
        this.size = size;
        this.resample = resample;
        this.doCenterCrop = doCenterCrop;
        this.cropSize = cropSize;
        this.doRescale = doRescale;
        this.rescaleFactor = rescaleFactor;
        this.doNormalize = doNormalize;
        this.imageMean = imageMean.clone();
        this.imageStd = imageStd.clone();
        this.steps = List.copyOf(steps);
        this.fixedSize = Optional.ofNullable(fixedSize);
        this.variableSizeReason = variableSizeReason;
    }

    /** ViTImageProcessor's defaults: 224x224, BILINEAR, rescale 1/255, normalize with mean 0.5 and std 0.5. */
    public static PreprocessorConfig defaults() {
        return fromJson(JSON.createObjectNode());
    }

    /** Reads a preprocessor_config.json; errors name the file and the key. */
    public static PreprocessorConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": file not found", e);
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The processor a JSON object describes; IllegalArgumentException names what is refused. */
    static PreprocessorConfig fromJson(JsonNode root) {
        Processor processor = processorOf(root);
        String name = processor.className;
        root.fieldNames().forEachRemaining(key -> {
            if (!processor.keys.contains(key) && !METADATA.contains(key)) {
                throw new IllegalArgumentException("key \"" + key + "\" is not a setting of " + name
                        + " (it takes " + String.join(", ", sorted(processor.keys))
                        + "); vitserve refuses what it does not reproduce rather than guess");
            }
        });
        boolean squareDefault = switch (processor) {
            case VIT, DEIT, BEIT, EFFICIENTNET -> true;
            case SIGLIP -> false;
            case CONVNEXT, BIT, CLIP, MOBILEVIT -> false;
        };
        PreprocessStep.Size defaultSize = switch (processor) {
            case VIT, SIGLIP -> new Exact(224, 224);
            case DEIT, BEIT -> new Exact(256, 256);
            case EFFICIENTNET -> new Exact(346, 346);
            case CONVNEXT -> new ShortestEdge(384);
            case BIT, CLIP, MOBILEVIT -> new ShortestEdge(224);
        };
        ResampleFilter defaultFilter = switch (processor) {
            case VIT, MOBILEVIT -> ResampleFilter.BILINEAR;
            case DEIT, BEIT, CONVNEXT, BIT, CLIP, SIGLIP -> ResampleFilter.BICUBIC;
            case EFFICIENTNET -> ResampleFilter.NEAREST;
        };
        float[][] meanStd = switch (processor) {
            case VIT, BEIT, CONVNEXT, EFFICIENTNET, MOBILEVIT, SIGLIP -> new float[][] {HALF, HALF};
            case DEIT -> new float[][] {IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD};
            case BIT, CLIP -> new float[][] {OPENAI_CLIP_MEAN, OPENAI_CLIP_STD};
        };
        Exact defaultCrop = switch (processor) {
            case MOBILEVIT -> new Exact(256, 256);
            case EFFICIENTNET -> new Exact(289, 289);
            default -> new Exact(224, 224);
        };
        boolean cropByDefault = processor != Processor.EFFICIENTNET;

        boolean doResize = flag(root, "do_resize", true);
        PreprocessStep.Size size = size(root.get("size"), "size", squareDefault, defaultSize);
        ResampleFilter filter = filter(root, defaultFilter, doResize);
        boolean hasCrop = processor.keys.contains("do_center_crop");
        boolean doCenterCrop = hasCrop && flag(root, "do_center_crop", cropByDefault);
        Exact crop = null;
        if (hasCrop) {
            PreprocessStep.Size cropSize = size(root.get("crop_size"), "crop_size", true, defaultCrop);
            if (!(cropSize instanceof Exact exact)) {
                throw new IllegalArgumentException("key \"crop_size\" must give \"height\" and \"width\" (center_crop"
                        + " takes nothing else), got " + root.get("crop_size"));
            }
            crop = exact;
        }
        boolean doRescale = flag(root, "do_rescale", true);
        double rescaleFactor = number(root, "rescale_factor", 1 / 255.0, doRescale);
        boolean hasNormalize = processor.keys.contains("do_normalize");
        boolean doNormalize = hasNormalize && flag(root, "do_normalize", true);
        float[] mean = hasNormalize ? channelValues(root, "image_mean", meanStd[0]) : HALF;
        float[] std = hasNormalize ? channelValues(root, "image_std", meanStd[1]) : HALF;
        if (doNormalize || (processor == Processor.EFFICIENTNET && flag(root, "include_top", true))) {
            for (float s : std) {
                if (s == 0f) {
                    throw new IllegalArgumentException("key \"image_std\" must not contain 0 (the division would give"
                            + " infinities), got " + root.get("image_std"));
                }
            }
        }
        if (processor == Processor.MOBILEVIT || processor == Processor.BEIT) {
            flag(root, "do_reduce_labels", false); // labels of segmentation maps: type-checked, no effect here
        }
        if (processor == Processor.BEIT) {
            flag(root, "reduce_labels", false);
        }

        List<PreprocessStep> steps = new ArrayList<>();
        Exact fixed = null;
        String variable = null;
        switch (processor) {
            case VIT, SIGLIP -> {
                // SiglipImageProcessor resizes to size["height"], size["width"] as ViT's does (an int size has no
                // such keys there: refused as ViT refuses a shortest edge)
                Exact exact = requireExact(size, name, root.get("size"));
                if (doResize) {
                    steps.add(new Resize(exact, filter));
                }
                fixed = exact;
                rescaleAndNormalize(steps, doRescale, rescaleFactor, false, doNormalize, mean, std);
            }
            case DEIT, BEIT, EFFICIENTNET, BIT, CLIP -> {
                if (processor != Processor.BIT && processor != Processor.CLIP) {
                    requireExact(size, name, root.get("size"));
                }
                if (doResize) {
                    steps.add(new Resize(size, filter));
                }
                if (doCenterCrop) {
                    steps.add(new CenterCrop(crop.height(), crop.width()));
                    fixed = crop;
                } else if (size instanceof Exact exact) {
                    fixed = exact;
                } else {
                    variable = "with do_center_crop false, " + name + " resizes the shortest edge to "
                            + ((ShortestEdge) size).edge() + " and the other side follows each image's aspect ratio";
                }
                boolean offset = processor == Processor.EFFICIENTNET && flag(root, "rescale_offset", false);
                rescaleAndNormalize(steps, doRescale, rescaleFactor, offset, doNormalize, mean, std);
                if (processor == Processor.EFFICIENTNET && flag(root, "include_top", true)) {
                    steps.add(new Normalize(new float[3], std));
                }
            }
            case CONVNEXT -> {
                if (!(size instanceof ShortestEdge edge)) {
                    throw new IllegalArgumentException("key \"size\" must give \"shortest_edge\" for ConvNextImageProcessor,"
                            + " got " + root.get("size"));
                }
                double cropPct = cropPct(root);
                int shortest = edge.edge();
                if (doResize) {
                    if (shortest < 384) {
                        int resized = (int) (shortest / cropPct);
                        if (resized <= 0) {
                            throw new IllegalArgumentException("key \"crop_pct\" " + cropPct + " makes the resize size "
                                    + resized + " (int(shortest_edge / crop_pct))");
                        }
                        steps.add(new Resize(new ShortestEdge(resized), filter));
                        steps.add(new CenterCrop(shortest, shortest));
                    } else {
                        steps.add(new Resize(new Exact(shortest, shortest), filter));
                    }
                    fixed = new Exact(shortest, shortest);
                } else {
                    variable = "with do_resize false, ConvNextImageProcessor neither resizes nor crops: the tensor is"
                            + " each image's own size";
                }
                rescaleAndNormalize(steps, doRescale, rescaleFactor, false, doNormalize, mean, std);
            }
            case MOBILEVIT -> {
                if (doResize) {
                    steps.add(new Resize(size, filter));
                }
                if (doRescale) {
                    steps.add(new Rescale(rescaleFactor));
                }
                if (doCenterCrop) {
                    steps.add(new CenterCrop(crop.height(), crop.width()));
                    fixed = crop;
                } else if (size instanceof Exact exact) {
                    fixed = exact;
                } else {
                    variable = "with do_center_crop false, MobileViTImageProcessor resizes the shortest edge to "
                            + ((ShortestEdge) size).edge() + " and the other side follows each image's aspect ratio";
                }
                if (flag(root, "do_flip_channel_order", true)) {
                    steps.add(new FlipChannels());
                }
            }
            default -> throw new IllegalStateException(processor.toString());
        }
        if (fixed == null && variable == null) {
            throw new IllegalStateException("no output size for " + name);
        }
        return new PreprocessorConfig(processor, doResize, size, filter, doCenterCrop, crop, doRescale, rescaleFactor,
                doNormalize, mean, std, steps, fixed, variable);
    }

    private static void rescaleAndNormalize(List<PreprocessStep> steps, boolean doRescale, double factor, boolean offset,
            boolean doNormalize, float[] mean, float[] std) {
        if (doRescale) {
            steps.add(new Rescale(factor));
            if (offset) {
                steps.add(new Offset());
            }
        }
        if (doNormalize) {
            steps.add(new Normalize(mean, std));
        }
    }

    private static Exact requireExact(PreprocessStep.Size size, String name, JsonNode given) {
        if (!(size instanceof Exact exact)) {
            throw new IllegalArgumentException("key \"size\" must give \"height\" and \"width\" for " + name
                    + " (its resize takes nothing else), got " + given);
        }
        return exact;
    }

    private static Processor processorOf(JsonNode root) {
        String name;
        String key;
        if (root.hasNonNull("image_processor_type")) {
            key = "image_processor_type";
            name = text(root, key);
        } else if (root.hasNonNull("feature_extractor_type")) {
            key = "feature_extractor_type";
            name = text(root, key).replace("FeatureExtractor", "ImageProcessor");
        } else {
            return Processor.VIT;
        }
        String slow = name.endsWith("Fast") ? name.substring(0, name.length() - 4) : name;
        return Processor.named(slow).orElseThrow(() -> new IllegalArgumentException("\"" + key + "\" "
                + root.get(key) + " is not an image processor vitserve reproduces exactly; supported: "
                + Processor.names()));
    }

    private static String text(JsonNode root, String key) {
        JsonNode node = root.get(key);
        if (!node.isTextual()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be a class name, got " + node);
        }
        return node.textValue();
    }

    /** A size as get_size_dict reads it: an int (square or shortest edge), [height, width], or a dict. */
    private static PreprocessStep.Size size(JsonNode node, String key, boolean square, PreprocessStep.Size fallback) {
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (node.isIntegralNumber()) {
            int value = positiveInt(node, key);
            return square ? new Exact(value, value) : new ShortestEdge(value);
        }
        if (node.isArray()) {
            if (node.size() != 2) {
                throw new IllegalArgumentException("key \"" + key + "\" as a list must be [height, width], got " + node);
            }
            return new Exact(positiveInt(node.get(0), key + "[0]"), positiveInt(node.get(1), key + "[1]"));
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be an integer, [height, width] or an object, got " + node);
        }
        Set<String> keys = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(keys::add);
        if (keys.equals(Set.of("height", "width"))) {
            return new Exact(positiveInt(node.get("height"), key + ".height"), positiveInt(node.get("width"), key + ".width"));
        }
        if (keys.equals(Set.of("shortest_edge")) || keys.equals(Set.of("shortest_edge", "longest_edge"))) {
            // the resizes that read shortest_edge do not read longest_edge (a checked integer all the same)
            if (keys.contains("longest_edge")) {
                positiveInt(node.get("longest_edge"), key + ".longest_edge");
            }
            return new ShortestEdge(positiveInt(node.get("shortest_edge"), key + ".shortest_edge"));
        }
        throw new IllegalArgumentException("key \"" + key + "\" has keys " + keys + "; vitserve reproduces"
                + " {\"height\", \"width\"}, {\"shortest_edge\"} and {\"shortest_edge\", \"longest_edge\"} where the"
                + " class reads them");
    }

    private static ResampleFilter filter(JsonNode root, ResampleFilter fallback, boolean used) {
        JsonNode node = root.get("resample");
        if (node == null) {
            return fallback;
        }
        if (node.isNull()) {
            if (used) {
                throw new IllegalArgumentException("key \"resample\" is null; Hugging Face refuses to resize without a"
                        + " filter (give 0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX or 5 HAMMING)");
            }
            return fallback;
        }
        int code = intValue(node, "resample");
        return ResampleFilter.ofCode(code).orElseThrow(() -> new IllegalArgumentException("resample " + code
                + " is not a Pillow filter vitserve reproduces (0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX,"
                + " 5 HAMMING)"));
    }

    private static double cropPct(JsonNode root) {
        JsonNode node = root.get("crop_pct");
        if (node == null || node.isNull()) {
            return 224 / 256.0;
        }
        if (!node.isNumber() || !(node.doubleValue() > 0) || Double.isInfinite(node.doubleValue())) {
            throw new IllegalArgumentException("key \"crop_pct\" must be a positive number, got " + node);
        }
        return node.doubleValue();
    }

    /** A flag; null is Python's None, which the processors test as false. */
    private static boolean flag(JsonNode root, String key, boolean fallback) {
        JsonNode node = root.get(key);
        if (node == null) {
            return fallback;
        }
        if (node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    private static double number(JsonNode root, String key, double fallback, boolean used) {
        JsonNode node = root.get(key);
        if (node == null) {
            return fallback;
        }
        if (node.isNull()) {
            if (used) {
                throw new IllegalArgumentException("key \"" + key + "\" is null while do_rescale is true; Hugging Face"
                        + " refuses that too");
            }
            return fallback;
        }
        if (!node.isNumber()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be a number, got " + node);
        }
        return node.doubleValue();
    }

    private static int intValue(JsonNode node, String key) {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be an integer, got " + node);
        }
        return node.intValue();
    }

    private static int positiveInt(JsonNode node, String key) {
        if (node == null) {
            throw new IllegalArgumentException("key \"" + key + "\" is missing");
        }
        int value = intValue(node, key);
        if (value <= 0) {
            throw new IllegalArgumentException("key \"" + key + "\" must be positive, got " + value);
        }
        return value;
    }

    /** Three float32 values, or one number for all channels; null takes the default, as the classes do. */
    private static float[] channelValues(JsonNode root, String key, float[] fallback) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (node.isNumber()) {
            float v = (float) node.doubleValue();
            return new float[] {v, v, v};
        }
        if (!node.isArray() || node.size() != 3) {
            throw new IllegalArgumentException("key \"" + key + "\" must be a list of 3 numbers (one per RGB channel), got " + node);
        }
        float[] values = new float[3];
        for (int i = 0; i < 3; i++) {
            if (!node.get(i).isNumber()) {
                throw new IllegalArgumentException("key \"" + key + "\" must be a list of 3 numbers, got " + node);
            }
            values[i] = (float) node.get(i).doubleValue();
        }
        return values;
    }

    private static float[] floats(double... values) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    private static List<String> sorted(Set<String> keys) {
        List<String> list = new ArrayList<>(keys);
        list.sort(null);
        return list;
    }

    /** The processor class. */
    public Processor processor() {
        return processor;
    }

    /** The steps Hugging Face's slow processor applies, in its order; geometry first, then values per pixel. */
    public List<PreprocessStep> steps() {
        return steps;
    }

    /**
     * The tensor's size when it is the same for every image: the crop, the exact resize, or with
     * {@code do_resize} false the {@code {height, width}} the image must already have. Empty when it
     * follows each image ({@link #variableSizeReason()}).
     */
    public Optional<Exact> fixedSize() {
        return fixedSize;
    }

    /** Why the tensor's size follows each image; null when it is fixed. */
    public String variableSizeReason() {
        return variableSizeReason;
    }

    /** Whether images are resized. */
    public boolean doResize() {
        return doResize;
    }

    /** Whether images are center cropped after the resize (ConvNeXt's crop below 384 is part of its resize). */
    public boolean doCenterCrop() {
        return doCenterCrop;
    }

    /** The center crop's size, or null for a class without one. */
    public Exact cropSize() {
        return cropSize;
    }

    /** The resize's size rule. */
    public PreprocessStep.Size size() {
        return size;
    }

    /** Height of the tensor ({@link #fixedSize()}). @throws IllegalStateException when it follows each image */
    public int height() {
        return fixed().height();
    }

    /** Width of the tensor ({@link #fixedSize()}). @throws IllegalStateException when it follows each image */
    public int width() {
        return fixed().width();
    }

    private Exact fixed() {
        return fixedSize.orElseThrow(() -> new IllegalStateException("the tensor size follows each image: " + variableSizeReason));
    }

    /** Pillow's number of the resize filter. */
    public int resample() {
        return resample.code();
    }

    /** The resize filter. */
    public ResampleFilter filter() {
        return resample;
    }

    public boolean doRescale() {
        return doRescale;
    }

    public double rescaleFactor() {
        return rescaleFactor;
    }

    public boolean doNormalize() {
        return doNormalize;
    }

    public float[] imageMean() {
        return imageMean.clone();
    }

    public float[] imageStd() {
        return imageStd.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PreprocessorConfig that && processor == that.processor && steps.equals(that.steps)
                && fixedSize.equals(that.fixedSize);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * processor.hashCode() + steps.hashCode()) + fixedSize.hashCode();
    }

    @Override
    public String toString() {
        return processor.className + steps + fixedSize.map(s -> " -> " + s).orElse(" -> size of each image");
    }
}
