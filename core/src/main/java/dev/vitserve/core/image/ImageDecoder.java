package dev.vitserve.core.image;

import java.io.EOFException;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns encoded bytes into an upright RGB image the way Hugging Face's {@code load_image} does
 * ({@code ImageOps.exif_transpose(Image.open(f)).convert("RGB")} with Pillow). Thread-safe.
 *
 * <p>The format is recognised from the leading bytes. The pixel count is read from the header
 * and refused above the cap before any pixel is decoded. Whatever goes wrong inside a decoder
 * (I/O errors, runtime exceptions, running out of memory on a crafted header) becomes an
 * {@link ImageDecodeException} with a plain message; nothing else escapes.
 *
 * <p>JPEG is decoded by libjpeg-turbo when it is installed ({@link JpegDecoders}), else by the JDK.
 */
public final class ImageDecoder {

    private final long maxPixels;
    private final Map<ImageFormat, FormatDecoder> decoders;

    /** A decoder refusing images of more than {@code maxPixels} pixels (width times height). */
    public ImageDecoder(long maxPixels) {
        this(maxPixels, defaultDecoders());
    }

    /** A decoder with some formats decoded differently, e.g. the JDK's JPEG decoder. */
    ImageDecoder(long maxPixels, Map<ImageFormat, FormatDecoder> decoders) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
        this.decoders = new EnumMap<>(decoders);
    }

    static Map<ImageFormat, FormatDecoder> defaultDecoders() {
        Map<ImageFormat, FormatDecoder> decoders = new EnumMap<>(ImageFormat.class);
        decoders.put(ImageFormat.JPEG, JpegDecoders.preferred());
        decoders.put(ImageFormat.PNG, ImageIoDecoder.png());
        decoders.put(ImageFormat.GIF, new GifDecoder());
        decoders.put(ImageFormat.BMP, ImageIoDecoder.bmp());
        decoders.put(ImageFormat.WEBP, ImageIoDecoder.webp());
        return decoders;
    }

    /** The pixel cap. */
    public long maxPixels() {
        return maxPixels;
    }

    /** The upright RGB pixels of an encoded image. */
    public RgbImage decode(byte[] data) throws ImageDecodeException {
        ImageFormat format = format(data);
        try (DecodedImage image = decodeUpright(format, data)) {
            return image.toRgbImage();
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError | InternalError e) {
            throw failure(format, e);
        }
    }

    /**
     * The upright pixels of an encoded image for {@link Preprocessor#writeTensor(DecodedImage, java.nio.FloatBuffer)},
     * possibly still in the JPEG decoder's native buffer: close the result when done with it.
     */
    public DecodedImage decodeForPreprocessing(byte[] data) throws ImageDecodeException {
        ImageFormat format = format(data);
        try {
            return decodeUpright(format, data);
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError | InternalError e) {
            throw failure(format, e);
        }
    }

    private ImageFormat format(byte[] data) throws ImageDecodeException {
        if (data == null || data.length == 0) {
            throw new ImageDecodeException(ImageDecodeException.Reason.EMPTY, "the upload is empty (0 bytes)");
        }
        Optional<ImageFormat> sniffed = ImageFormat.sniff(data);
        if (sniffed.isEmpty() || !decoders.containsKey(sniffed.get())) {
            throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "the data is not an image in a supported format (" + ImageFormat.acceptedList() + ")");
        }
        return sniffed.get();
    }

    private DecodedImage decodeUpright(ImageFormat format, byte[] data) throws ImageDecodeException, IOException {
        DecodedImage stored = decoders.get(format).decodeStored(data, maxPixels);
        try {
            return stored.upright(ExifOrientation.read(format, data));
        } catch (RuntimeException | Error e) {
            stored.close();
            throw e;
        }
    }

    private static ImageDecodeException failure(ImageFormat format, Throwable e) {
        String name = format.displayName();
        if (e instanceof OutOfMemoryError) {
            return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                    "the " + name + " image could not be decoded within the memory available", e);
        }
        if (e instanceof IOException && isTruncation(e)) {
            return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                    "the " + name + " data ends early (truncated file)", e);
        }
        return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                "the " + name + " data is damaged and cannot be decoded", e);
    }

    private static boolean isTruncation(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return true;
            }
            String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (message.contains("unexpected end") || message.contains("premature end") || message.contains("truncated")) {
                return true;
            }
        }
        return false;
    }
}
