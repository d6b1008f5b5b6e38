package dev.vitserve.core.image;

/** 8-bit RGB pixels read one row at a time, e.g. straight out of a native decode buffer. */
interface RgbRows {

    /** Width in pixels. */
    int width();

    /** Height in pixels. */
    int height();

    /**
     * Copies row {@code y} into {@code packed} from index {@code offset}, one int per pixel:
     * {@code R | G << 8 | B << 16} (the top 8 bits are not part of the pixel and may be anything).
     */
    void readPacked(int y, int[] packed, int offset);

    /** Heap pixels read as packed rows. */
    static RgbRows of(RgbImage image) {
        byte[] pixels = image.pixels();
        int width = image.width();
        return new RgbRows() {
            @Override
            public int width() {
                return width;
            }

            @Override
            public int height() {
                return image.height();
            }

            @Override
            public void readPacked(int y, int[] packed, int offset) {
                for (int x = 0, p = y * width * 3; x < width; x++, p += 3) {
                    packed[offset + x] = (pixels[p] & 0xFF) | (pixels[p + 1] & 0xFF) << 8 | (pixels[p + 2] & 0xFF) << 16;
                }
            }
        };
    }
}
