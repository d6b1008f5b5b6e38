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
 * and refused above the cap (and above what is left of the request's allowance,
 * {@link RequestPixels}) before any pixel is decoded. Work beyond the pixels is bounded too: a JPEG
 * of more than {@value #MAX_JPEG_SCANS} scans is refused unread, and the decoders that can be
 * stopped (the JDK's) are stopped at the decode deadline ({@link DecodeDeadline}); the native ones
 * (libjpeg-turbo, libwebp) cannot be, and need no stopping: their time is linear in the pixels
 * and the scans. Whatever goes wrong inside a decoder
 * (I/O errors, runtime exceptions, running out of memory on a crafted header) becomes an
 * {@link ImageDecodeException} with a plain message; nothing else escapes.
 *
 * <p>JPEG is decoded by libjpeg-turbo when it is installed ({@link JpegDecoders}), else by the JDK;
 * WebP by libwebp ({@link WebpDecoder}), and refused as unsupported where it is not installed.
 */
public final class ImageDecoder {

    /** The decode deadline when none is given, in milliseconds of CPU. */
    public static final long DEFAULT_MAX_DECODE_MS = 3000;

    /**
     * Most scans of a JPEG. libjpeg's standard progressive script has 10 (6 for grey), mozjpeg's
     * optimised scripts about 20; libjpeg-turbo 3 suggests such a limit (TJPARAM_SCANLIMIT, djpeg
     * -maxscans). At 64 the worst case is 64 passes over the coefficients (see docs/benchmarks.md, "Worst-case decoding").
     */
    static final int MAX_JPEG_SCANS = 64;

    private final long maxPixels;
    private final DecodeDeadline deadline;
    private final Map<ImageFormat, FormatDecoder> decoders;
    private final dev.vitserve.core.memory.MemoryBudget budget;

    /** A decoder refusing images of more than {@code maxPixels} pixels (width times height), default deadline. */
    public ImageDecoder(long maxPixels) {
        this(maxPixels, DEFAULT_MAX_DECODE_MS);
    }

    /** The same, stopping a decode after {@code maxDecodeMs} milliseconds of CPU where it can be stopped. */
    public ImageDecoder(long maxPixels, long maxDecodeMs) {
        this(maxPixels, maxDecodeMs, defaultDecoders());
    }

    /** A decoder with some formats decoded differently, e.g. the JDK's JPEG decoder. */
    ImageDecoder(long maxPixels, Map<ImageFormat, FormatDecoder> decoders) {
        this(maxPixels, DEFAULT_MAX_DECODE_MS, decoders);
    }

    ImageDecoder(long maxPixels, long maxDecodeMs, Map<ImageFormat, FormatDecoder> decoders) {
        this(maxPixels, maxDecodeMs, decoders, null);
    }

    /**
     * A decoder whose decodes claim the bytes of their pixels from {@code budget} (from the header, before decoding,
     * at the format decoder's bytes per pixel) and hold them until the {@link DecodedImage} is closed.
     */
    public ImageDecoder(long maxPixels, long maxDecodeMs, dev.vitserve.core.memory.MemoryBudget budget) {
        this(maxPixels, maxDecodeMs, defaultDecoders(), budget);
    }

    ImageDecoder(long maxPixels, long maxDecodeMs, Map<ImageFormat, FormatDecoder> decoders,
                 dev.vitserve.core.memory.MemoryBudget budget) {
        this.budget = budget;
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
        this.deadline = new DecodeDeadline(maxDecodeMs);
        this.decoders = new EnumMap<>(decoders);
    }

    static Map<ImageFormat, FormatDecoder> defaultDecoders() {
        Map<ImageFormat, FormatDecoder> decoders = new EnumMap<>(ImageFormat.class);
        decoders.put(ImageFormat.JPEG, JpegDecoders.preferred());
        decoders.put(ImageFormat.PNG, ImageIoDecoder.png());
        decoders.put(ImageFormat.GIF, new GifDecoder());
        decoders.put(ImageFormat.BMP, ImageIoDecoder.bmp());
        decoders.put(ImageFormat.WEBP, WebpLoader.library().<FormatDecoder>map(WebpDecoder::new).orElse((data, limits) -> {
            throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT, "this server cannot decode"
                    + " WebP: libwebp is not installed (" + WebpLoader.description() + ")");
        }));
        return decoders;
    }

    /** The pixel cap. */
    public long maxPixels() {
        return maxPixels;
    }

    /** The decode deadline in milliseconds. */
    public long maxDecodeMs() {
        return deadline.millis();
    }

    /**
     * The pixels the image's header announces, without decoding it, at most the per-image cap (an
     * image over it is refused by its own check); 0 when the format or the size cannot be told. For
     * refusing a request's images together before any is decoded; the decode checks the size it
     * finds whatever this said.
     */
    public long announcedPixels(byte[] data) {
        Optional<ImageFormat> format = data == null ? Optional.empty() : ImageFormat.sniff(data);
        return Math.min(maxPixels, format.map(f -> AnnouncedSize.pixels(f, data)).orElse(0L));
    }

    /** The upright RGB pixels of an encoded image. */
    public RgbImage decode(byte[] data) throws ImageDecodeException {
        ImageFormat format = format(data);
        try (DecodedImage image = decodeUpright(format, data, RequestPixels.unbounded())) {
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
        return decodeForPreprocessing(data, RequestPixels.unbounded());
    }

    /** The same, claiming the image's pixels from its request's allowance. */
    public DecodedImage decodeForPreprocessing(byte[] data, RequestPixels request) throws ImageDecodeException {
        ImageFormat format = format(data);
        try {
            return decodeUpright(format, data, request);
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

    private DecodedImage decodeUpright(ImageFormat format, byte[] data, RequestPixels request)
            throws ImageDecodeException, IOException {
        if (format == ImageFormat.JPEG) {
            JpegMarkers.checkScanCount(data, MAX_JPEG_SCANS);
        }
        int orientation = ExifOrientation.read(format, data);
        FormatDecoder decoder = decoders.get(format);
        DecodeLimits limits = new DecodeLimits(maxPixels, request, deadline, budget, decoder,
                orientation > 1 && orientation <= 8);
        DecodedImage stored;
        try {
            stored = decoder.decodeStored(data, limits);
        } catch (IOException | ImageDecodeException | RuntimeException | Error e) {
            limits.release();
            throw e;
        }
        try {
            return stored.upright(orientation).holding(limits.takeClaim());
        } catch (RuntimeException | Error e) {
            stored.close();
            limits.release();
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
