package dev.vitserve.core.image;

/** 8-bit RGB pixels read one row at a time, e.g. straight out of a native decode buffer. */
interface RgbRows {

    /** Width in pixels. */
    int width();

    /** Height in pixels. */
    int height();

    /** Copies row {@code y}'s {@code 3 * width()} bytes, interleaved R, G, B, into {@code rgb} from index {@code offset}. */
    void readRow(int y, byte[] rgb, int offset);
}
