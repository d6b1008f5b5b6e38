package dev.vitserve.core.image;

import java.nio.ByteBuffer;

/**
 * A JPEG decoded by libjpeg-turbo, still in its decompressor's native output buffer (as stored:
 * EXIF orientation not applied), read as RGB where needed: grey replicated, CMYK converted as
 * Pillow does ({@link JpegColor}). Owns the borrowed decompressor until {@link #close()} gives it
 * back. Not thread-safe.
 */
final class TurboJpegPixels implements RgbRows, AutoCloseable {

    /** The pixel layouts libjpeg-turbo is asked for. */
    enum Layout {
        RGB(TurboJpegLibrary.TJPF_RGB, 3),
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
    public void readRow(int y, byte[] rgb, int offset) {
        checkOpen();
        int rowBytes = width * layout.bytesPerPixel;
        int start = y * rowBytes;
        switch (layout) {
            case RGB -> pixels.get(start, rgb, offset, rowBytes);
            case GRAY -> {
                byte[] row = rowSamples(rowBytes);
                pixels.get(start, row, 0, rowBytes);
                for (int x = 0, o = offset; x < width; x++, o += 3) {
                    byte v = row[x];
                    rgb[o] = v;
                    rgb[o + 1] = v;
                    rgb[o + 2] = v;
                }
            }
            case CMYK -> {
                byte[] row = rowSamples(rowBytes);
                pixels.get(start, row, 0, rowBytes);
                JpegColor.cmykToRgb(row, 0, rgb, offset, width, false);
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
            case RGB -> stored;
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
