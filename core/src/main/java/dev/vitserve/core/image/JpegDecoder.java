package dev.vitserve.core.image;

import java.awt.image.Raster;
import java.io.IOException;
import java.util.Locale;

/**
 * Decodes JPEG with the TwelveMonkeys ImageIO reader (which runs the JDK's libjpeg underneath),
 * reading the raw decoded components with {@code readRaster} (no colour conversion, no ICC), then
 * converting them to RGB with libjpeg's own integer arithmetic ({@link JpegColor}).
 *
 * <p>The components come from the JDK's libjpeg: on Debian and Ubuntu that is the system
 * libjpeg-turbo, Pillow's own decoder, so the pixels are Pillow's for every variant tested. With
 * a JDK bundling IJG libjpeg 6b, 4:4:0 chroma may differ slightly and arithmetic coding fails
 * (see the package documentation).
 * A file that ends before its image data does (no EOI marker) is refused as truncated, as Pillow does.
 */
final class JpegDecoder implements FormatDecoder {

    private static final String TWELVEMONKEYS = "com.twelvemonkeys.imageio.plugins.jpeg.";

    /** The raster (up to 4 bytes for CMYK), the samples read from it (4) and the RGB pixels (3). */
    @Override
    public int bytesPerPixel() {
        return 11;
    }

    @Override
    public RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        Raster raster;
        try (ImageReaderSession session = ImageReaderSession.open(data, ImageFormat.JPEG, "jpeg", TWELVEMONKEYS, false)) {
            session.checkPixels(limits);
            raster = session.underDeadline(limits, reader -> reader.readRaster(0, null));
            for (String warning : session.warnings()) {
                String w = warning.toLowerCase(Locale.ROOT);
                if (w.contains("missing eoi") || w.contains("premature end of jpeg file")) {
                    throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                            "the JPEG data ends early (truncated file)");
                }
            }
        }
        int components = raster.getNumBands();
        JpegColor.Space space = JpegColor.guess(components, JpegHeader.read(data));
        if (space == null) {
            throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "JPEG images with " + components + " colour components are not supported");
        }
        int[] bands = new int[components];
        for (int i = 0; i < components; i++) {
            bands[i] = i;
        }
        int width = raster.getWidth();
        int height = raster.getHeight();
        byte[] samples = RasterPixels.samples(raster, bands);
        return new RgbImage(width, height, JpegColor.toRgb(samples, width * height, space));
    }
}
