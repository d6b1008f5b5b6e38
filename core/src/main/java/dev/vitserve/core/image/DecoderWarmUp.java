package dev.vitserve.core.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Decodes a tiny image of every format once, before the server says it is ready, so that its first request of each
 * format does not pay for loading the decoder's classes and native library (the first PNG after start took 222 ms,
 * later ones 14 ms). The images are resources of this module ({@code /vitserve/warmup/warmup.*}, 16 x 12 px).
 */
public final class DecoderWarmUp {

    /** The width of every warm-up image. */
    static final int WIDTH = 16;
    /** The height of every warm-up image. */
    static final int HEIGHT = 12;

    /**
     * What warming up did.
     *
     * @param decoded the formats decoded, in {@link ImageFormat} order
     * @param unavailable the formats that could not be decoded (WebP without libwebp), with the reason
     * @param millis how long it took
     */
    public record Report(List<ImageFormat> decoded, Map<ImageFormat, String> unavailable, double millis) {

        public Report {
            decoded = List.copyOf(decoded);
            unavailable = Map.copyOf(unavailable);
        }

        /** One line for the log, e.g. "image decoders warmed up in 180 ms: JPEG, PNG, GIF, BMP, WebP". */
        public String summary() {
            String line = String.format(Locale.ROOT, "image decoders warmed up in %.0f ms: %s", millis,
                    decoded.stream().map(ImageFormat::displayName).collect(Collectors.joining(", ")));
            if (unavailable.isEmpty()) {
                return line;
            }
            return line + "; not decoded: " + unavailable.entrySet().stream()
                    .map(e -> e.getKey().displayName() + " (" + e.getValue() + ")").collect(Collectors.joining(", "));
        }
    }

    private DecoderWarmUp() {
    }

    /**
     * Decodes the image of every format with {@code decoder}: blocking, run it on a worker. A format that cannot be
     * decoded (WebP without libwebp) is reported with the reason, never thrown: the server serves the others.
     */
    public static Report run(ImageDecoder decoder) {
        long start = System.nanoTime();
        List<ImageFormat> decoded = new ArrayList<>();
        Map<ImageFormat, String> unavailable = new EnumMap<>(ImageFormat.class);
        for (ImageFormat format : ImageFormat.values()) {
            try (DecodedImage pixels = decoder.decodeForPreprocessing(sample(format))) {
                if (pixels.width() == WIDTH && pixels.height() == HEIGHT) {
                    decoded.add(format);
                } else {
                    unavailable.put(format, "decoded to " + pixels.width() + "x" + pixels.height() + ", not "
                            + WIDTH + "x" + HEIGHT);
                }
            } catch (ImageDecodeException e) {
                unavailable.put(format, e.getMessage());
            }
        }
        return new Report(decoded, unavailable, (System.nanoTime() - start) / 1e6);
    }

    /** The warm-up image of a format, as stored. */
    static byte[] sample(ImageFormat format) {
        String name = "/vitserve/warmup/warmup." + switch (format) {
            case JPEG -> "jpg";
            case PNG -> "png";
            case GIF -> "gif";
            case BMP -> "bmp";
            case WEBP -> "webp";
        };
        try (InputStream in = DecoderWarmUp.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the warm-up image " + name + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the warm-up image " + name, e);
        }
    }
}
