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
}
