package dev.vitserve.core.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;

/**
 * A JPEG decoded by libjpeg-turbo, still in its decompressor's native output buffer (as stored:
 * EXIF orientation not applied), read as RGB where needed: grey replicated, CMYK converted as
 * Pillow does ({@link JpegColor}). Colour JPEGs are stored as RGBX, four bytes a pixel, so that
 * a row reads out as packed pixels in one bulk copy ({@link #readPacked}). Owns the borrowed decompressor until {@link #close()} gives it
 * back. Not thread-safe.
 */
final class TurboJpegPixels implements RgbRows, AutoCloseable {

    /** The pixel layouts libjpeg-turbo is asked for. */
    enum Layout {
        RGBX(TurboJpegLibrary.TJPF_RGBX, 4),
        GRAY(TurboJpegLibrary.TJPF_GRAY, 1),
        CMYK(TurboJpegLibrary.TJPF_CMYK, 4);

        final int pixelFormat;
        final int bytesPerPixel;

        Layout(int pixelFormat, int bytesPerPixel) {
            this.pixelFormat = pixelFormat;
            this.bytesPerPixel = bytesPerPixel;
        }
    }

    private final TurboJpegPool pool;
    private TurboJpegDecompressor decompressor;
    private final ByteBuffer pixels;
    /** The same memory as little-endian ints: an RGBX pixel reads as {@code R | G << 8 | B << 16 | X << 24}. */
    private final IntBuffer packedPixels;
    private final int width;
    private final int height;
    private final Layout layout;
    private byte[] samples;

    TurboJpegPixels(TurboJpegPool pool, TurboJpegDecompressor decompressor, int width, int height, Layout layout) {
        this.pool = pool;
        this.decompressor = decompressor;
        this.width = width;
        this.height = height;
        this.layout = layout;
        this.pixels = decompressor.pixels((long) width * height * layout.bytesPerPixel);
        this.packedPixels = pixels.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public void readPacked(int y, int[] packed, int offset) {
        checkOpen();
        if (layout == Layout.RGBX) {
            packedPixels.get(y * width, packed, offset, width);
            return;
        }
        int rowBytes = width * layout.bytesPerPixel;
        byte[] row = rowSamples(rowBytes + (layout == Layout.CMYK ? width * 3 : 0));
        pixels.get(y * rowBytes, row, 0, rowBytes);
        if (layout == Layout.GRAY) {
            for (int x = 0; x < width; x++) {
                packed[offset + x] = (row[x] & 0xFF) * 0x010101;
            }
        } else {
            JpegColor.cmykToRgb(row, 0, row, rowBytes, width, false);
            for (int x = 0, p = rowBytes; x < width; x++, p += 3) {
                packed[offset + x] = (row[p] & 0xFF) | (row[p + 1] & 0xFF) << 8 | (row[p + 2] & 0xFF) << 16;
            }
        }
    }

    /** All pixels copied to the heap as RGB. */
    RgbImage toRgbImage() {
        checkOpen();
        int count = width * height;
        byte[] stored = new byte[count * layout.bytesPerPixel];
        pixels.get(0, stored, 0, stored.length);
        byte[] rgb = switch (layout) {
            case RGBX -> {
                byte[] out = new byte[count * 3];
                for (int i = 0, p = 0, o = 0; i < count; i++, p += 4, o += 3) {
                    out[o] = stored[p];
                    out[o + 1] = stored[p + 1];
                    out[o + 2] = stored[p + 2];
                }
                yield out;
            }
            case GRAY -> RasterPixels.grayToRgb(stored);
            case CMYK -> {
                byte[] out = new byte[count * 3];
                JpegColor.cmykToRgb(stored, 0, out, 0, count, false);
                yield out;
            }
        };
        return new RgbImage(width, height, rgb);
    }

    private byte[] rowSamples(int length) {
        if (samples == null || samples.length < length) {
            samples = new byte[length];
        }
        return samples;
    }

    private void checkOpen() {
        if (decompressor == null) {
            throw new IllegalStateException("the decoded pixels were already released");
        }
    }

    /** Gives the decompressor, and so its buffer, back to the pool. */
    @Override
    public void close() {
        if (decompressor != null) {
            TurboJpegDecompressor released = decompressor;
            decompressor = null;
            pool.giveBack(released);
        }
    }
}
