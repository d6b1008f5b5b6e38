package dev.vitserve.core.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The settings of preprocessor_config.json (ViTImageProcessor), with its defaults for missing keys.
 *
 * <p>{@code size} may be {@code {"height": H, "width": W}} or a legacy integer (square). Like
 * ViTImageProcessor, {@code {"shortest_edge": ...}} is refused. Only {@code resample = 2}
 * (BILINEAR) is supported. {@code image_mean} / {@code image_std} may be a list of three numbers
 * or one number for all channels; they are kept as float32, as numpy does.
 */
public record PreprocessorConfig(boolean doResize, int height, int width, int resample, boolean doRescale,
        double rescaleFactor, boolean doNormalize, float[] imageMean, float[] imageStd) {

    /** Pillow's and Hugging Face's code for BILINEAR. */
    public static final int BILINEAR = 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Checks the values; the arrays are copied. */
    public PreprocessorConfig {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("size must be positive, got height " + height + " and width " + width);
        }
        if (resample != BILINEAR) {
            throw new IllegalArgumentException("resample " + resample + " (" + resampleName(resample)
                    + ") is not supported; only 2 (BILINEAR), ViTImageProcessor's default, is");
        }
        imageMean = channelValues(imageMean, "image_mean");
        imageStd = channelValues(imageStd, "image_std");
        for (float std : imageStd) {
            if (std == 0f) {
                throw new IllegalArgumentException("image_std must not contain 0");
            }
        }
    }

    /** ViTImageProcessor's defaults: 224x224, BILINEAR, rescale 1/255, normalize with mean 0.5 and std 0.5. */
    public static PreprocessorConfig defaults() {
        return new PreprocessorConfig(true, 224, 224, BILINEAR, true, 1 / 255.0, true,
                new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});
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

    private static PreprocessorConfig fromJson(JsonNode root) {
        PreprocessorConfig d = defaults();
        int height = d.height;
        int width = d.width;
        JsonNode size = root.get("size");
        if (size != null && !size.isNull()) {
            if (size.isIntegralNumber()) {
                height = width = positiveInt(size, "size");
            } else if (size.isObject()) {
                if (!size.has("height") || !size.has("width")) {
                    throw new IllegalArgumentException("key \"size\" must have \"height\" and \"width\" (got "
                            + fieldNames(size) + "); ViTImageProcessor refuses other forms such as \"shortest_edge\"");
                }
                height = positiveInt(size.get("height"), "size.height");
                width = positiveInt(size.get("width"), "size.width");
            } else {
                throw new IllegalArgumentException("key \"size\" must be an object {\"height\", \"width\"} or an integer, got " + size);
            }
        }
        return new PreprocessorConfig(
                bool(root, "do_resize", d.doResize),
                height,
                width,
                root.hasNonNull("resample") ? intValue(root.get("resample"), "resample") : d.resample,
                bool(root, "do_rescale", d.doRescale),
                number(root, "rescale_factor", d.rescaleFactor),
                bool(root, "do_normalize", d.doNormalize),
                floats(root, "image_mean", d.imageMean),
                floats(root, "image_std", d.imageStd));
    }

    private static boolean bool(JsonNode root, String key, boolean fallback) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("key \"" + key + "\" must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    private static double number(JsonNode root, String key, double fallback) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
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
        int value = intValue(node, key);
        if (value <= 0) {
            throw new IllegalArgumentException("key \"" + key + "\" must be positive, got " + value);
        }
        return value;
    }

    private static float[] floats(JsonNode root, String key, float[] fallback) {
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

    private static float[] channelValues(float[] values, String key) {
        if (values == null || values.length != 3) {
            throw new IllegalArgumentException(key + " must have 3 values (one per RGB channel)");
        }
        return values.clone();
    }

    private static String fieldNames(JsonNode node) {
        StringBuilder names = new StringBuilder();
        node.fieldNames().forEachRemaining(n -> names.append(names.length() == 0 ? "" : ", ").append('"').append(n).append('"'));
        return names.length() == 0 ? "no keys" : names.toString();
    }

    private static String resampleName(int resample) {
        return switch (resample) {
            case 0 -> "NEAREST";
            case 1 -> "LANCZOS";
            case 3 -> "BICUBIC";
            case 4 -> "BOX";
            case 5 -> "HAMMING";
            default -> "unknown";
        };
    }

    @Override
    public float[] imageMean() {
        return imageMean.clone();
    }

    @Override
    public float[] imageStd() {
        return imageStd.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PreprocessorConfig that && doResize == that.doResize && height == that.height
                && width == that.width && resample == that.resample && doRescale == that.doRescale
                && Double.compare(rescaleFactor, that.rescaleFactor) == 0 && doNormalize == that.doNormalize
                && Arrays.equals(imageMean, that.imageMean) && Arrays.equals(imageStd, that.imageStd);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new Object[] {doResize, height, width, resample, doRescale, rescaleFactor, doNormalize,
            Arrays.hashCode(imageMean), Arrays.hashCode(imageStd)});
    }

    @Override
    public String toString() {
        return "PreprocessorConfig[doResize=" + doResize + ", height=" + height + ", width=" + width
                + ", resample=" + resample + ", doRescale=" + doRescale + ", rescaleFactor=" + rescaleFactor
                + ", doNormalize=" + doNormalize + ", imageMean=" + Arrays.toString(imageMean)
                + ", imageStd=" + Arrays.toString(imageStd) + "]";
    }
}
