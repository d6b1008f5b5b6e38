package dev.vitserve.core.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;

/**
 * Reads the samples of a decoded ImageIO raster without any colour management, the way Pillow
 * sees them, and turns them into RGB as Pillow's {@code convert("RGB")} does: palette indices
 * through the palette (transparency ignored), grey replicated, alpha dropped (not composited).
 *
 * <p>Sample depths: 8-bit samples are taken as they are; 16-bit samples keep their high byte
 * (Pillow does this for 16-bit RGB, RGBA and grey+alpha PNG; for 16-bit grey Pillow instead
 * saturates at 255, which vitserve does not copy); 1..7-bit samples are scaled with
 * {@code v * 255 / (2^bits - 1)} truncated, as Pillow's unpackers do (grey PNG of 1, 2, 4 bits,
 * 16-bit 5-5-5 and 5-6-5 BMP).
 *
 * <p>Byte and 16-bit component rasters are read straight from their arrays, honouring band
 * offsets, pixel stride and scanline stride; other layouts go row by row through
 * {@link Raster#getSamples}. {@link BufferedImage#getRGB} is never used: it applies grey gamma and
 * ICC conversions that Pillow does not.
 */
final class RasterPixels {

    private RasterPixels() {
    }

    /** The RGB pixels of an image an ImageIO reader produced. */
    static RgbImage toRgb(BufferedImage image) throws ImageDecodeException {
        ColorModel colorModel = image.getColorModel();
        Raster raster = image.getRaster();
        int width = raster.getWidth();
        int height = raster.getHeight();
        if (colorModel instanceof IndexColorModel palette) {
            return new RgbImage(width, height, expandPalette(indices(raster), palette));
        }
        int colors = colorModel.getNumColorComponents();
        if (colors == 3) {
            return new RgbImage(width, height, samples(raster, 0, 1, 2));
        }
        if (colors == 1) {
            return new RgbImage(width, height, grayToRgb(samples(raster, 0)));
        }
        throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                "images with " + colors + " colour channels are not supported");
    }

    /** Palette indices (one byte per pixel, not scaled) of an indexed raster of up to 8 bits per pixel. */
    static byte[] indices(Raster raster) {
        if (raster.getSampleModel() instanceof ComponentSampleModel && raster.getDataBuffer() instanceof DataBufferByte) {
            return samples(raster, 0);
        }
        int width = raster.getWidth();
        int height = raster.getHeight();
        byte[] out = new byte[width * height];
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, width, 1, 0, row);
            for (int x = 0; x < width; x++) {
                out[y * width + x] = (byte) row[x];
            }
        }
        return out;
    }

    /** Each index replaced by its palette colour; indices past the palette's end become grey (i, i, i) as in Pillow. */
    static byte[] expandPalette(byte[] indices, IndexColorModel palette) {
        int size = Math.min(palette.getMapSize(), 256);
        byte[] reds = new byte[256];
        byte[] greens = new byte[256];
        byte[] blues = new byte[256];
        for (int i = 0; i < 256; i++) {
            reds[i] = greens[i] = blues[i] = (byte) i;
        }
        for (int i = 0; i < size; i++) {
            reds[i] = (byte) palette.getRed(i);
            greens[i] = (byte) palette.getGreen(i);
            blues[i] = (byte) palette.getBlue(i);
        }
        return expandPalette(indices, reds, greens, blues);
    }

    /** Each index replaced by the colour at that index of the three 256-entry tables. */
    static byte[] expandPalette(byte[] indices, byte[] reds, byte[] greens, byte[] blues) {
        byte[] rgb = new byte[indices.length * 3];
        for (int i = 0, o = 0; i < indices.length; i++, o += 3) {
            int index = indices[i] & 0xFF;
            rgb[o] = reds[index];
            rgb[o + 1] = greens[index];
            rgb[o + 2] = blues[index];
        }
        return rgb;
    }

    /** Grey values replicated to R, G and B. */
    static byte[] grayToRgb(byte[] gray) {
        byte[] rgb = new byte[gray.length * 3];
        for (int i = 0, o = 0; i < gray.length; i++, o += 3) {
            byte v = gray[i];
            rgb[o] = v;
            rgb[o + 1] = v;
            rgb[o + 2] = v;
        }
        return rgb;
    }

    /**
     * The given bands of a raster as 8-bit samples, interleaved in the given order, rows top to
     * bottom. May return the raster's own array when it already has exactly that layout.
     */
    static byte[] samples(Raster raster, int... bands) {
        SampleModel model = raster.getSampleModel();
        DataBuffer buffer = raster.getDataBuffer();
        if (model instanceof ComponentSampleModel components) {
            if (buffer instanceof DataBufferByte bytes) {
                return componentBytes(raster, components, bytes, bands);
            }
            if (buffer instanceof DataBufferUShort shorts && allSampleSizes(model, bands, 16)) {
                return componentShorts(raster, components, shorts, bands);
            }
        }
        return anyLayout(raster, bands);
    }

    private static boolean allSampleSizes(SampleModel model, int[] bands, int bits) {
        for (int band : bands) {
            if (model.getSampleSize(band) != bits) {
                return false;
            }
        }
        return true;
    }

    private static byte[] componentBytes(Raster raster, ComponentSampleModel model, DataBufferByte buffer, int[] bands) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int n = bands.length;
        int pixelStride = model.getPixelStride();
        int scanlineStride = model.getScanlineStride();
        int x0 = raster.getMinX() - raster.getSampleModelTranslateX();
        int y0 = raster.getMinY() - raster.getSampleModelTranslateY();
        byte[][] arrays = new byte[n][];
        int[] starts = new int[n];
        boolean compact = pixelStride == n && scanlineStride == width * n;
        for (int i = 0; i < n; i++) {
            int bank = model.getBankIndices()[bands[i]];
            arrays[i] = buffer.getData(bank);
            starts[i] = buffer.getOffsets()[bank] + model.getOffset(x0, y0, bands[i]);
            compact &= arrays[i] == arrays[0] && starts[i] == i;
        }
        if (compact && arrays[0].length == width * height * n) {
            return arrays[0]; // already exactly the layout wanted: no copy
        }
        byte[] out = new byte[width * height * n];
        for (int i = 0; i < n; i++) {
            byte[] in = arrays[i];
            int o = i;
            for (int y = 0; y < height; y++) {
                int p = starts[i] + y * scanlineStride;
                for (int x = 0; x < width; x++, p += pixelStride, o += n) {
                    out[o] = in[p];
                }
            }
        }
        return out;
    }

    private static byte[] componentShorts(Raster raster, ComponentSampleModel model, DataBufferUShort buffer, int[] bands) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int n = bands.length;
        int pixelStride = model.getPixelStride();
        int scanlineStride = model.getScanlineStride();
        int x0 = raster.getMinX() - raster.getSampleModelTranslateX();
        int y0 = raster.getMinY() - raster.getSampleModelTranslateY();
        byte[] out = new byte[width * height * n];
        for (int i = 0; i < n; i++) {
            int bank = model.getBankIndices()[bands[i]];
            short[] in = buffer.getData(bank);
            int start = buffer.getOffsets()[bank] + model.getOffset(x0, y0, bands[i]);
            int o = i;
            for (int y = 0; y < height; y++) {
                int p = start + y * scanlineStride;
                for (int x = 0; x < width; x++, p += pixelStride, o += n) {
                    out[o] = (byte) ((in[p] & 0xFFFF) >>> 8); // high byte, as Pillow's ";16B" unpackers
                }
            }
        }
        return out;
    }

    private static byte[] anyLayout(Raster raster, int[] bands) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int n = bands.length;
        byte[] out = new byte[width * height * n];
        int[] row = new int[width];
        for (int i = 0; i < n; i++) {
            int bits = raster.getSampleModel().getSampleSize(bands[i]);
            int max = bits >= 31 ? Integer.MAX_VALUE : (1 << bits) - 1;
            for (int y = 0; y < height; y++) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, width, 1, bands[i], row);
                int o = y * width * n + i;
                for (int x = 0; x < width; x++, o += n) {
                    out[o] = (byte) to8Bits(row[x], bits, max);
                }
            }
        }
        return out;
    }

    private static int to8Bits(int value, int bits, int max) {
        if (bits == 8) {
            return value;
        }
        if (bits > 8) {
            return value >>> (bits - 8);
        }
        return value * 255 / max;
    }
}
