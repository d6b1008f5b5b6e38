package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.EnumMap;
import java.util.Map;

/** The two ways vitserve decodes JPEG, for tests that must hold on both. */
enum JpegPath {
    /** libjpeg-turbo through TurboJPEG (skipped where the library is not installed). */
    TURBOJPEG,
    /** The JDK's ImageIO reader, the fallback. */
    IMAGEIO;

    /** An image decoder that decodes JPEG this way (and other formats as usual). */
    ImageDecoder decoder(long maxPixels) {
        return decoderWith(jpegDecoder(), maxPixels);
    }

    /** An image decoder with the given JPEG decoder, for up to 100 megapixels. */
    static ImageDecoder decoderWith(FormatDecoder jpeg) {
        return decoderWith(jpeg, 100_000_000);
    }

    private static ImageDecoder decoderWith(FormatDecoder jpeg, long maxPixels) {
        Map<ImageFormat, FormatDecoder> decoders = new EnumMap<>(ImageDecoder.defaultDecoders());
        decoders.put(ImageFormat.JPEG, jpeg);
        return new ImageDecoder(maxPixels, decoders);
    }

    /** This path's JPEG decoder. */
    FormatDecoder jpegDecoder() {
        if (this == IMAGEIO) {
            return new JpegDecoder();
        }
        assumeTrue(TurboJpegLoader.library().isPresent(), "libjpeg-turbo's TurboJPEG library is not installed"
                + " (apt-get install libturbojpeg0): " + TurboJpegLoader.description());
        return JpegDecoders.preferred();
    }

    /** Whether {@code file} (relative to the fixtures folder) is a JPEG, so worth testing on both paths. */
    static boolean isJpeg(String file) {
        return ImageFormat.sniff(PillowReference.bytes(file)).filter(f -> f == ImageFormat.JPEG).isPresent();
    }
}
