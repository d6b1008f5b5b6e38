package dev.vitserve.core.image;

/**
 * Turns stored pixels upright for an EXIF orientation, as Pillow's {@code ImageOps.exif_transpose}:
 * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
 * 8 rotate 90 counter-clockwise. 1 and unknown values leave the image as it is.
 */
final class ExifTranspose {

    private static final int TILE = 32;

    private ExifTranspose() {
    }

    /** The upright image; the same object for orientation 1. */
    static RgbImage apply(RgbImage image, int orientation) {
        int w = image.width();
        int h = image.height();
        // source pixel of output (x, y) = base + x * dx + y * dy, in pixels of the stored image
        int base;
        int dx;
        int dy;
        switch (orientation) {
            case 2 -> { base = w - 1; dx = -1; dy = w; }
            case 3 -> { base = (h - 1) * w + w - 1; dx = -1; dy = -w; }
            case 4 -> { base = (h - 1) * w; dx = 1; dy = -w; }
            case 5 -> { base = 0; dx = w; dy = 1; }
            case 6 -> { base = (h - 1) * w; dx = -w; dy = 1; }
            case 7 -> { base = (h - 1) * w + w - 1; dx = -w; dy = -1; }
            case 8 -> { base = w - 1; dx = w; dy = -1; }
            default -> {
                return image;
            }
        }
        boolean swapped = orientation >= 5;
        int outWidth = swapped ? h : w;
        int outHeight = swapped ? w : h;
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        // tiles keep both the rows read and the rows written in cache when the axes swap
        int tile = swapped ? TILE : Math.max(outWidth, 1);
        for (int ty = 0; ty < outHeight; ty += tile) {
            int yEnd = Math.min(outHeight, ty + tile);
            for (int tx = 0; tx < outWidth; tx += tile) {
                int xEnd = Math.min(outWidth, tx + tile);
                for (int y = ty; y < yEnd; y++) {
                    int s = base + y * dy + tx * dx;
                    int o = (y * outWidth + tx) * 3;
                    for (int x = tx; x < xEnd; x++, s += dx, o += 3) {
                        int p = s * 3;
                        out[o] = in[p];
                        out[o + 1] = in[p + 1];
                        out[o + 2] = in[p + 2];
                    }
                }
            }
        }
        return new RgbImage(outWidth, outHeight, out);
    }
}
