package dev.vitserve.core.image;

import java.util.Arrays;
import java.util.Locale;

/**
 * One step of an image processor, in the order Hugging Face's slow processor applies it. A
 * processor is a list of these ({@link PreprocessorConfig#steps()}), run by {@link Preprocessor}.
 */
public sealed interface PreprocessStep {

    /** How a resize step picks its output size from the image's. */
    sealed interface Size {
    }

    /** Exactly {@code height x width}, the aspect ratio not kept. */
    record Exact(int height, int width) implements Size {
        @Override
        public String toString() {
            return width + "x" + height;
        }
    }

    /**
     * The shorter side to {@code edge}, the longer one to {@code int(edge * long / short)}
     * ({@code get_resize_output_image_size} with {@code default_to_square=False}).
     */
    record ShortestEdge(int edge) implements Size {
        @Override
        public String toString() {
            return "shortest edge " + edge;
        }
    }

    /** Pillow's {@code resize} to the size {@code size} gives, with {@code filter}. */
    record Resize(Size size, ResampleFilter filter) implements PreprocessStep {
        @Override
        public String toString() {
            return "resize to " + size + " (" + filter + ")";
        }
    }

    /** {@code image_transforms.center_crop}: the middle {@code height x width}, padded with 0 where the image is smaller. */
    record CenterCrop(int height, int width) implements PreprocessStep {
        @Override
        public String toString() {
            return "center crop " + width + "x" + height;
        }
    }

    /** {@code (float32) (float64(x) * factor)}. */
    record Rescale(double factor) implements PreprocessStep {
        @Override
        public String toString() {
            return "rescale by " + factor;
        }
    }

    /** {@code x - 1} in float32 (EfficientNet's {@code rescale_offset}). */
    record Offset() implements PreprocessStep {
        @Override
        public String toString() {
            return "minus 1";
        }
    }

    /** {@code (x - mean[c]) / std[c]} in float32, the image first made float32 if it is still 8-bit. */
    record Normalize(float[] mean, float[] std) implements PreprocessStep {
        /** The arrays are copied. */
        public Normalize {
            mean = mean.clone();
            std = std.clone();
        }

        @Override
        public float[] mean() {
            return mean.clone();
        }

        @Override
        public float[] std() {
            return std.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Normalize that && Arrays.equals(mean, that.mean) && Arrays.equals(std, that.std);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "normalize with mean %s, std %s", Arrays.toString(mean), Arrays.toString(std));
        }
    }

    /** RGB to BGR ({@code flip_channel_order}). */
    record FlipChannels() implements PreprocessStep {
        @Override
        public String toString() {
            return "RGB to BGR";
        }
    }
}
