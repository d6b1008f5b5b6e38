package dev.vitserve.core.image;

/**
 * Turns a JPEG's decoded components into RGB exactly as Pillow (libjpeg-turbo, then
 * {@code convert("RGB")}) does.
 *
 * <ul>
 *   <li>YCbCr: libjpeg's integer conversion ({@code jdcolor.c}, 16-bit fixed point tables).</li>
 *   <li>CMYK and YCCK: libjpeg outputs CMYK (YCCK through the same tables); Pillow reads every
 *       CMYK JPEG as Adobe-inverted ({@code "CMYK;I"}) and converts to RGB naively, without any
 *       ICC profile: {@code R = K' - K' * C' / 255} with its rounding ({@code MULDIV255}), where
 *       {@code C' = 255 - C} and {@code K' = 255 - (255 - K)}. vitserve copies this, including the
 *       absence of colour management.</li>
 *   <li>Embedded ICC profiles are ignored, as Pillow does.</li>
 * </ul>
 */
final class JpegColor {

    /** The colour spaces libjpeg can find in a JPEG. */
    enum Space { GRAY, YCBCR, RGB, CMYK, YCCK }

    private static final int[] CR_TO_R = new int[256];
    private static final int[] CB_TO_B = new int[256];
    private static final int[] CR_TO_G = new int[256];
    private static final int[] CB_TO_G = new int[256];

    static {
        // jdcolor.c build_ycc_rgb_table: FIX(x) = (int) (x * 65536 + 0.5), ONE_HALF = 1 << 15
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_TO_R[i] = (91881 * x + 32768) >> 16; // FIX(1.40200)
            CB_TO_B[i] = (116130 * x + 32768) >> 16; // FIX(1.77200)
            CR_TO_G[i] = -46802 * x; // -FIX(0.71414)
            CB_TO_G[i] = -22554 * x + 32768; // -FIX(0.34414), plus ONE_HALF
        }
    }

    private JpegColor() {
    }

    /** libjpeg(-turbo)'s guess of the colour space ({@code jdapimin.c default_decompression_parms}). */
    static Space guess(int components, JpegHeader header) {
        int[] ids = header.componentIds();
        switch (components) {
            case 1:
                return Space.GRAY;
            case 3:
                if (header.jfif()) {
                    return Space.YCBCR;
                }
                if (header.adobeTransform() >= 0) {
                    return header.adobeTransform() == 0 ? Space.RGB : Space.YCBCR;
                }
                if (ids.length == 3 && ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B') {
                    return Space.RGB;
                }
                return Space.YCBCR;
            case 4:
                if (header.adobeTransform() >= 0) {
                    return header.adobeTransform() == 0 ? Space.CMYK : Space.YCCK;
                }
                return Space.CMYK;
            default:
                return null;
        }
    }

    /** RGB of a compact interleaved component array of {@code pixels} pixels; may convert in place. */
    static byte[] toRgb(byte[] samples, int pixels, Space space) {
        return switch (space) {
            case GRAY -> RasterPixels.grayToRgb(samples);
            case RGB -> samples;
            case YCBCR -> yccToRgbInPlace(samples, pixels);
            case CMYK -> cmykToRgb(samples, pixels, false);
            case YCCK -> cmykToRgb(samples, pixels, true);
        };
    }

    private static byte[] yccToRgbInPlace(byte[] samples, int pixels) {
        for (int i = 0, p = 0; i < pixels; i++, p += 3) {
            int y = samples[p] & 0xFF;
            int cb = samples[p + 1] & 0xFF;
            int cr = samples[p + 2] & 0xFF;
            samples[p] = clamp(y + CR_TO_R[cr]);
            samples[p + 1] = clamp(y + ((CB_TO_G[cb] + CR_TO_G[cr]) >> 16));
            samples[p + 2] = clamp(y + CB_TO_B[cb]);
        }
        return samples;
    }

    private static byte[] cmykToRgb(byte[] samples, int pixels, boolean ycck) {
        byte[] rgb = new byte[pixels * 3];
        cmykToRgb(samples, 0, rgb, 0, pixels, ycck);
        return rgb;
    }

    /**
     * Converts {@code pixels} CMYK pixels as libjpeg outputs them (4 bytes each, from
     * {@code cmyk[from]}) to RGB the way Pillow does (3 bytes each, at {@code rgb[to]}). With
     * {@code ycck}, the input is a YCCK JPEG's raw components instead, converted as libjpeg would first.
     */
    static void cmykToRgb(byte[] cmyk, int from, byte[] rgb, int to, int pixels, boolean ycck) {
        for (int i = 0, p = from, o = to; i < pixels; i++, p += 4, o += 3) {
            int c0 = cmyk[p] & 0xFF;
            int c1 = cmyk[p + 1] & 0xFF;
            int c2 = cmyk[p + 2] & 0xFF;
            int k = cmyk[p + 3] & 0xFF;
            int c;
            int m;
            int y;
            if (ycck) {
                // ycck_cmyk_convert gives C = 255 - R(YCbCr); Pillow's "CMYK;I" inverts it back
                c = clampInt(c0 + CR_TO_R[c2]);
                m = clampInt(c0 + ((CB_TO_G[c1] + CR_TO_G[c2]) >> 16));
                y = clampInt(c0 + CB_TO_B[c1]);
            } else {
                c = 255 - c0;
                m = 255 - c1;
                y = 255 - c2;
            }
            // Pillow: the stored K is inverted to 255 - k, then cmyk2rgb uses nk = 255 - (255 - k) = k
            int nk = k;
            rgb[o] = clamp(nk - mulDiv255(c, nk));
            rgb[o + 1] = clamp(nk - mulDiv255(m, nk));
            rgb[o + 2] = clamp(nk - mulDiv255(y, nk));
        }
    }

    /** Pillow's MULDIV255: {@code a * b / 255} rounded its way. */
    private static int mulDiv255(int a, int b) {
        int tmp = a * b + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    private static int clampInt(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static byte clamp(int v) {
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
