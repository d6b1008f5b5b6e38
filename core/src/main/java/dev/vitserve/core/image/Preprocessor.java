package dev.vitserve.core.image;

import dev.vitserve.core.image.PreprocessStep.CenterCrop;
import dev.vitserve.core.image.PreprocessStep.Exact;
import dev.vitserve.core.image.PreprocessStep.FlipChannels;
import dev.vitserve.core.image.PreprocessStep.Normalize;
import dev.vitserve.core.image.PreprocessStep.Offset;
import dev.vitserve.core.image.PreprocessStep.Rescale;
import dev.vitserve.core.image.PreprocessStep.Resize;
import dev.vitserve.core.image.PreprocessStep.ShortestEdge;
import java.nio.BufferOverflowException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The preprocessing engine: runs a processor's {@link PreprocessorConfig#steps() steps} on an image
 * into the model's NCHW float32 input, exactly as Hugging Face's slow processor does. Thread-safe
 * (immutable after construction).
 *
 * <p>The steps split in two. Geometry (at most one {@link Resize} followed by at most one
 * {@link CenterCrop}, which is what every supported class does) is one pass of {@link PillowResize}
 * that computes only the part of the resized image the crop keeps. Everything after it (rescale in
 * float64 stored as float32, offset, normalize in float32, channel flip) depends only on a pixel's
 * 8-bit value and its channel, so it is precomputed as a 256-entry table per channel: the result is
 * identical, value for value. A crop larger than the image pads with 0 at the point where the crop
 * runs, so the padding's value is the steps after the crop applied to 0.
 */
public final class Preprocessor {

    private final PreprocessorConfig config;
    private final Resize resize;
    private final CenterCrop crop;
    /** [source channel][8-bit value]: the final float. */
    private final float[][] lookup = new float[3][256];
    /** [source channel]: the output plane it ends in (a flip moves it). */
    private final int[] planeOf = new int[3];
    /** [output plane]: the value of padding. */
    private final float[] padding = new float[3];

    /** A preprocessor for one model's settings. */
    public Preprocessor(PreprocessorConfig config) {
        this.config = config;
        Resize resizeStep = null;
        CenterCrop cropStep = null;
        List<PreprocessStep> values = new ArrayList<>();
        int valuesBeforeCrop = 0;
        for (PreprocessStep step : config.steps()) {
            if (step instanceof Resize r) {
                if (resizeStep != null || cropStep != null) {
                    throw new IllegalArgumentException("unsupported step order " + config.steps());
                }
                resizeStep = r;
            } else if (step instanceof CenterCrop c) {
                if (cropStep != null) {
                    throw new IllegalArgumentException("unsupported step order " + config.steps());
                }
                cropStep = c;
                valuesBeforeCrop = values.size();
            } else {
                values.add(step);
            }
        }
        this.resize = resizeStep;
        this.crop = cropStep;
        for (int s = 0; s < 3; s++) {
            for (int v = 0; v < 256; v++) {
                Value out = apply(values, new Value(s, v, false));
                lookup[s][v] = out.value;
                planeOf[s] = out.channel;
            }
        }
        List<PreprocessStep> afterCrop = values.subList(valuesBeforeCrop, values.size());
        boolean floatAtCrop = values.subList(0, valuesBeforeCrop).stream()
                .anyMatch(v -> v instanceof Rescale || v instanceof Normalize || v instanceof Offset);
        for (int p = 0; p < 3; p++) {
            Value out = apply(afterCrop, new Value(p, 0f, floatAtCrop));
            padding[out.channel] = out.value;
        }
    }

    /** A sample on its way through the value steps: where its channel is, its value, and whether numpy holds it as float. */
    private record Value(int channel, float value, boolean isFloat) {
    }

    private static Value apply(List<PreprocessStep> steps, Value start) {
        int channel = start.channel;
        float x = start.value;
        boolean isFloat = start.isFloat;
        for (PreprocessStep step : steps) {
            if (step instanceof Rescale r) {
                x = (float) ((double) x * r.factor());
                isFloat = true;
            } else if (step instanceof Offset) {
                x = x - 1f;
                isFloat = true;
            } else if (step instanceof Normalize n) {
                x = (x - n.mean()[channel]) / n.std()[channel];
                isFloat = true;
            } else if (step instanceof FlipChannels) {
                channel = 2 - channel;
            } else {
                throw new IllegalArgumentException("unsupported step " + step);
            }
        }
        return new Value(channel, x, isFloat);
    }

    /** The settings this preprocessor applies. */
    public PreprocessorConfig config() {
        return config;
    }

    /** Height of the model input in pixels. @throws IllegalStateException when it follows each image */
    public int height() {
        return config.height();
    }

    /** Width of the model input in pixels. @throws IllegalStateException when it follows each image */
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

    /** Floats per image: {@code 3 * height * width}. @throws IllegalStateException when it follows each image */
    public int tensorLength() {
        return 3 * config.height() * config.width();
    }

    /** The tensor's size for a {@code width x height} image (the same for all when {@link PreprocessorConfig#fixedSize()} is set). */
    public Exact outputSize(int width, int height) throws ImageDecodeException {
        Geometry g = geometry(width, height);
        return new Exact(g.outHeight, g.outWidth);
    }

    /**
     * Where an image goes: resized to {@code resizedWidth x resizedHeight}, of which {@code window} is
     * kept and written at row {@code padTop}, column {@code padLeft} of the {@code outWidth x outHeight} tensor.
     */
    private record Geometry(int resizedWidth, int resizedHeight, PillowResize.Window window, int padTop, int padLeft,
            int outWidth, int outHeight) {
    }

    private Geometry geometry(int width, int height) throws ImageDecodeException {
        int rw = width;
        int rh = height;
        if (resize != null) {
            if (resize.size() instanceof Exact exact) {
                rw = exact.width();
                rh = exact.height();
            } else {
                int edge = ((ShortestEdge) resize.size()).edge();
                boolean portrait = width <= height;
                long shortSide = portrait ? width : height;
                long longSide = portrait ? height : width;
                long newLong = (long) ((double) ((long) edge * longSide) / shortSide);
                if (newLong > PixelLimit.MAX_RESIZE_PASS_PIXELS) {
                    throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS, "image is " + width + "x"
                            + height + ", too elongated: resizing its shortest edge to " + edge + " makes the other "
                            + newLong + " pixels long (crop it closer to the subject)");
                }
                rw = portrait ? edge : (int) newLong;
                rh = portrait ? (int) newLong : edge;
            }
        }
        if (crop == null) {
            return new Geometry(rw, rh, PillowResize.Window.all(rw, rh), 0, 0, rw, rh);
        }
        int[] rows = cropAxis(rh, crop.height());
        int[] columns = cropAxis(rw, crop.width());
        return new Geometry(rw, rh, new PillowResize.Window(columns[0], rows[0], columns[1], rows[1]), rows[2],
                columns[2], crop.width(), crop.height());
    }

    /**
     * {@code image_transforms.center_crop} along one axis: {@code [first, end)} of the image kept and
     * where it lands. Inside the image the start is {@code (size - crop) // 2}; a crop larger than the
     * image keeps all of it, placed at {@code ceil((crop - size) / 2)}, zeros around it.
     */
    private static int[] cropAxis(int size, int crop) {
        if (crop <= size) {
            int first = (size - crop) / 2;
            return new int[] {first, first + crop, 0};
        }
        return new int[] {0, size, (crop - size + 1) / 2};
    }

    /**
     * Writes the image's {@link #tensorLength()} floats, channel planes each row by row, at
     * {@code out}'s position and advances it.
     *
     * @throws ImageDecodeException {@link ImageDecodeException.Reason#WRONG_SIZE} when the processor
     *     does not resize and the image is not already the size the model takes;
     *     {@link ImageDecodeException.Reason#TOO_MANY_PIXELS} when the image is so elongated that resizing it
     *     would cost far more than its pixels ({@link PixelLimit#MAX_RESIZE_PASS_PIXELS})
     * @throws BufferOverflowException when {@code out} has fewer floats left than the tensor needs
     */
    public void writeTensor(RgbImage image, FloatBuffer out) throws ImageDecodeException {
        writeTensor(DecodedImage.of(image), out);
    }

    /**
     * The same for an image from {@link ImageDecoder#decodeForPreprocessing}: a JPEG left in the
     * decoder's native buffer is resized from there, without copying it whole first. The image stays
     * open (the caller closes it). When the tensor's size follows each image
     * ({@link PreprocessorConfig#fixedSize()} empty), it is {@link #outputSize}'s.
     */
    public void writeTensor(DecodedImage image, FloatBuffer out) throws ImageDecodeException {
        Geometry g = geometry(image.width(), image.height());
        if (config.fixedSize().isPresent()) {
            Exact fixed = config.fixedSize().get();
            if (g.outWidth != fixed.width() || g.outHeight != fixed.height()) {
                throw new ImageDecodeException(ImageDecodeException.Reason.WRONG_SIZE, "image is "
                        + image.width() + "x" + image.height() + " but this model takes exactly " + fixed
                        + " and its preprocessor does not resize (do_resize is false)");
            }
        }
        int width = g.outWidth;
        int height = g.outHeight;
        int length = 3 * width * height;
        if (out.remaining() < length) {
            throw new BufferOverflowException();
        }
        boolean resizes = g.resizedWidth != image.width() || g.resizedHeight != image.height();
        if (resizes) {
            PixelLimit.checkResize(image.width(), image.height(), g.window.width(), g.window.height());
        }
        float[] tensor = out.hasArray() ? out.array() : new float[length];
        int at = out.hasArray() ? out.arrayOffset() + out.position() : 0;
        int plane = width * height;
        boolean whole = g.window.width() == width && g.window.height() == height;
        boolean untouched = !resizes && g.window.equals(PillowResize.Window.all(image.width(), image.height()));
        if (untouched && whole && image.heapImage() != null) {
            writePlanes(image.heapImage().pixels(), tensor, at, plane);
        } else {
            if (!whole) {
                pad(tensor, at, g);
            }
            int[] planeStart = {at + planeOf[0] * plane, at + planeOf[1] * plane, at + planeOf[2] * plane};
            int offset = g.padTop * width + g.padLeft;
            PillowResize.resize(image, g.resizedWidth, g.resizedHeight, config.filter(), g.window,
                    (y, red, green, blue, rowWidth) -> {
                        int start = offset + y * width;
                        lookUp(red, lookup[0], tensor, planeStart[0] + start, rowWidth);
                        lookUp(green, lookup[1], tensor, planeStart[1] + start, rowWidth);
                        lookUp(blue, lookup[2], tensor, planeStart[2] + start, rowWidth);
                    });
        }
        if (out.hasArray()) {
            out.position(out.position() + length);
        } else {
            out.put(tensor, 0, length);
        }
    }

    /** The padding value in every tensor position outside the kept window. */
    private void pad(float[] tensor, int at, Geometry g) {
        int width = g.outWidth;
        int plane = width * g.outHeight;
        int top = g.padTop;
        int bottom = top + g.window.height();
        int left = g.padLeft;
        int right = left + g.window.width();
        for (int p = 0; p < 3; p++) {
            float value = padding[p];
            int base = at + p * plane;
            for (int y = 0; y < g.outHeight; y++) {
                int row = base + y * width;
                if (y < top || y >= bottom) {
                    java.util.Arrays.fill(tensor, row, row + width, value);
                } else {
                    java.util.Arrays.fill(tensor, row, row + left, value);
                    java.util.Arrays.fill(tensor, row + right, row + width, value);
                }
            }
        }
    }

    /** Each 8-bit value's float, from {@code tensor[at]}. */
    private static void lookUp(int[] values, float[] table, float[] tensor, int at, int length) {
        for (int i = 0; i < length; i++) {
            tensor[at + i] = table[values[i]];
        }
    }

    /** Looks up each sample's float and writes the three planes from {@code tensor[at]}. */
    private void writePlanes(byte[] pixels, float[] tensor, int at, int plane) {
        float[] red = lookup[0];
        float[] green = lookup[1];
        float[] blue = lookup[2];
        int r = at + planeOf[0] * plane;
        int g = at + planeOf[1] * plane;
        int b = at + planeOf[2] * plane;
        for (int i = 0, p = 0; i < plane; i++, p += 3) {
            tensor[r + i] = red[pixels[p] & 0xFF];
            tensor[g + i] = green[pixels[p + 1] & 0xFF];
            tensor[b + i] = blue[pixels[p + 2] & 0xFF];
        }
    }
}
