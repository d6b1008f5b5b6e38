package dev.vitserve.core.image;

import java.nio.BufferOverflowException;
import java.nio.FloatBuffer;

/**
 * Resize, rescale and normalize into the model's NCHW float32 input, exactly as ViTImageProcessor does.
 * Thread-safe (immutable after construction).
 *
 * <p>Hugging Face computes {@code (float32) (v * rescale_factor)} in float64 and then
 * {@code (x - mean) / std} in float32. Both depend only on the 8-bit value and the channel, so
 * they are precomputed as a 256-entry table per channel; the result is identical.
 */
public final class Preprocessor {

    private final PreprocessorConfig config;
    private final float[][] lookup = new float[3][256];

    /** A preprocessor for one model's settings. */
    public Preprocessor(PreprocessorConfig config) {
        this.config = config;
        float[] mean = config.imageMean();
        float[] std = config.imageStd();
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                float x = config.doRescale() ? (float) (v * config.rescaleFactor()) : v;
                if (config.doNormalize()) {
                    x = (x - mean[c]) / std[c];
                }
                lookup[c][v] = x;
            }
        }
    }

    /** The settings this preprocessor applies. */
    public PreprocessorConfig config() {
        return config;
    }

    /** Height of the model input in pixels. */
    public int height() {
        return config.height();
    }

    /** Width of the model input in pixels. */
    public int width() {
        return config.width();
    }

    /**
     * The bytes {@link #writeTensor} allocates beside the image and the tensor for an image of {@code width x height}:
     * the resize's buffers, or a row copy of the image when it is already the model's size.
     */
    public long resizeBytes(long imageWidth, long imageHeight) {
        if (imageWidth == config.width() && imageHeight == config.height()) {
            return 3 * imageWidth * imageHeight + 4L * tensorLength();
        }
        return PillowResize.workingBytes(imageWidth, imageHeight, config.width(), config.height())
                + 4L * tensorLength();
    }

    /** Floats per image: {@code 3 * height * width}. */
    public int tensorLength() {
        return 3 * config.height() * config.width();
    }

    /**
     * Writes the image's {@link #tensorLength()} floats, channel planes R, G, B each row by row,
     * at {@code out}'s position and advances it.
     *
     * @throws ImageDecodeException {@link ImageDecodeException.Reason#WRONG_SIZE} when resizing is
     *     switched off and the image is not already {@code width x height};
     *     {@link ImageDecodeException.Reason#TOO_MANY_PIXELS} when the image is so elongated that resizing it
     *     would cost far more than its pixels ({@link PixelLimit#MAX_RESIZE_PASS_PIXELS})
     * @throws BufferOverflowException when {@code out} has fewer than {@link #tensorLength()} floats left
     */
    public void writeTensor(RgbImage image, FloatBuffer out) throws ImageDecodeException {
        writeTensor(DecodedImage.of(image), out);
    }

    /**
     * The same for an image from {@link ImageDecoder#decodeForPreprocessing}: a JPEG left in the
     * decoder's native buffer is resized from there, without copying it whole first. The image stays
     * open (the caller closes it).
     */
    public void writeTensor(DecodedImage image, FloatBuffer out) throws ImageDecodeException {
        int width = config.width();
        int height = config.height();
        if (out.remaining() < tensorLength()) {
            throw new BufferOverflowException();
        }
        if ((image.width() != width || image.height() != height) && !config.doResize()) {
            throw new ImageDecodeException(ImageDecodeException.Reason.WRONG_SIZE, "image is "
                    + image.width() + "x" + image.height() + " but this model takes exactly " + width + "x"
                    + height + " and its preprocessor does not resize (do_resize is false)");
        }
        PixelLimit.checkResize(image.width(), image.height(), width, height);
        float[] tensor = out.hasArray() ? out.array() : new float[tensorLength()];
        int at = out.hasArray() ? out.arrayOffset() + out.position() : 0;
        if (image.width() == width && image.height() == height) {
            writePlanes(image.toRgbImage().pixels(), tensor, at);
        } else {
            int plane = width * height;
            PillowResize.resize(image, width, height, (y, red, green, blue, rowWidth) -> {
                int start = at + y * rowWidth;
                lookUp(red, lookup[0], tensor, start, rowWidth);
                lookUp(green, lookup[1], tensor, start + plane, rowWidth);
                lookUp(blue, lookup[2], tensor, start + 2 * plane, rowWidth);
            });
        }
        if (out.hasArray()) {
            out.position(out.position() + tensorLength());
        } else {
            out.put(tensor);
        }
    }

    /** Each 8-bit value's float, from {@code tensor[at]}. */
    private static void lookUp(int[] values, float[] table, float[] tensor, int at, int length) {
        for (int i = 0; i < length; i++) {
            tensor[at + i] = table[values[i]];
        }
    }

    /** Looks up each sample's float and writes the R, G and B planes from {@code tensor[at]}. */
    private void writePlanes(byte[] pixels, float[] tensor, int at) {
        int plane = config.width() * config.height();
        float[] red = lookup[0];
        float[] green = lookup[1];
        float[] blue = lookup[2];
        for (int i = 0, p = 0; i < plane; i++, p += 3) {
            tensor[at + i] = red[pixels[p] & 0xFF];
            tensor[at + plane + i] = green[pixels[p + 1] & 0xFF];
            tensor[at + 2 * plane + i] = blue[pixels[p + 2] & 0xFF];
        }
    }
}
