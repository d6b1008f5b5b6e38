package dev.vitserve.core.image;

import java.util.Arrays;
import java.util.Optional;

/**
 * Pillow's resampling filters, by the number {@code preprocessor_config.json} gives as {@code resample}
 * (Pillow's {@code Image.Resampling} values, which Hugging Face's {@code PILImageResampling} repeats).
 *
 * <p>All but {@link #NEAREST} are convolutions computed as libImaging/Resample.c does: the kernel
 * stretched by the downscaling factor (antialiasing), weights normalized, then 22-bit fixed point.
 * {@link #NEAREST} is Pillow's own nearest-neighbour path (libImaging/Geometry.c), not a convolution.
 */
public enum ResampleFilter {
    NEAREST(0, 0.0),
    LANCZOS(1, 3.0),
    BILINEAR(2, 1.0),
    BICUBIC(3, 2.0),
    BOX(4, 0.5),
    HAMMING(5, 1.0);

    private final int code;
    private final double support;

    ResampleFilter(int code, double support) {
        this.code = code;
        this.support = support;
    }

    /** The number Pillow and preprocessor_config.json use. */
    public int code() {
        return code;
    }

    /** The kernel's half width before stretching, as in Resample.c's filter table. */
    double support() {
        return support;
    }

    /** The filter with Pillow's number {@code code}, if there is one. */
    public static Optional<ResampleFilter> ofCode(int code) {
        return Arrays.stream(values()).filter(f -> f.code == code).findFirst();
    }

    /** The kernel at {@code x}, each as Resample.c writes it (same operations, same order). */
    double kernel(double x) {
        switch (this) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                if (x < 0.0) {
                    x = -x;
                }
                return x < 1.0 ? 1.0 - x : 0.0;
            case HAMMING:
                if (x < 0.0) {
                    x = -x;
                }
                if (x == 0.0) {
                    return 1.0;
                }
                if (x >= 1.0) {
                    return 0.0;
                }
                x = x * Math.PI;
                return Math.sin(x) / x * (0.54 + 0.46 * Math.cos(x));
            case BICUBIC: {
                double a = -0.5;
                if (x < 0.0) {
                    x = -x;
                }
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
            case LANCZOS:
                return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
            default:
                throw new IllegalStateException(this + " is not a convolution");
        }
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return Math.sin(x) / x;
    }
}
