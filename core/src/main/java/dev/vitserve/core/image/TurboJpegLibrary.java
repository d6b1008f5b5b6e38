package dev.vitserve.core.image;

import com.sun.jna.Library;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * The part of libjpeg-turbo's TurboJPEG C API ({@code turbojpeg.h}, library {@code libturbojpeg.so.0})
 * that decoding needs, bound with JNA. Buffers are passed as native {@link Pointer}s: JNA would copy
 * a {@code byte[]} on every call. Constants are those of libjpeg-turbo 2.x.
 */
interface TurboJpegLibrary extends Library {

    /** {@code TJPF_RGBX}: 4 bytes per pixel, R, G, B and an unused byte. */
    int TJPF_RGBX = 2;
    /** {@code TJPF_GRAY}: 1 byte per pixel. */
    int TJPF_GRAY = 6;
    /** {@code TJPF_CMYK}: 4 bytes per pixel, C, M, Y, K as libjpeg outputs them (YCCK converted to CMYK). */
    int TJPF_CMYK = 11;

    /** {@code TJCS_RGB}: a JPEG whose components are R, G, B. */
    int TJCS_RGB = 0;
    /** {@code TJCS_YCbCr}. */
    int TJCS_YCBCR = 1;
    /** {@code TJCS_GRAY}. */
    int TJCS_GRAY = 2;
    /** {@code TJCS_CMYK}. */
    int TJCS_CMYK = 3;
    /** {@code TJCS_YCCK}. */
    int TJCS_YCCK = 4;

    /** {@code TJFLAG_ACCURATEDCT}: libjpeg's accurate integer inverse DCT (JDCT_ISLOW), Pillow's default. */
    int TJFLAG_ACCURATEDCT = 4096;

    /** {@code TJFLAG_STOPONWARNING}: stop at libjpeg's first warning instead of decoding through it. */
    int TJFLAG_STOPONWARNING = 8192;

    /** {@code TJERR_WARNING}: the last call reported a warning (it still produced an image). */
    int TJERR_WARNING = 0;

    /** {@code tjInitDecompress}: a new decompressor instance, or null (see {@link #tjGetErrorStr2}). */
    Pointer tjInitDecompress();

    /** {@code tjDecompressHeader3}: size, chroma subsampling and colour space of a JPEG; 0 or -1. */
    int tjDecompressHeader3(Pointer handle, Pointer jpegBuf, NativeLong jpegSize, int[] width, int[] height,
            int[] jpegSubsamp, int[] jpegColorspace);

    /**
     * {@code tjDecompress2}: decodes a JPEG into {@code dstBuf} in {@code pixelFormat}, rows
     * {@code pitch} bytes apart, at full size when {@code width} and {@code height} are the JPEG's;
     * 0, or -1 on an error or a warning ({@link #tjGetErrorCode} tells which).
     */
    int tjDecompress2(Pointer handle, Pointer jpegBuf, NativeLong jpegSize, Pointer dstBuf, int width, int pitch,
            int height, int pixelFormat, int flags);

    /** {@code tjGetErrorStr2}: the message of the last error or first warning (of this thread or instance). */
    String tjGetErrorStr2(Pointer handle);

    /**
     * {@code tjGetErrorCode}: {@link #TJERR_WARNING} or {@code TJERR_FATAL} for the last failed call.
     * In libjpeg-turbo 2.x "warning" means some warning came up, even if an error followed it.
     */
    int tjGetErrorCode(Pointer handle);

    /** {@code tjDestroy}: frees an instance; 0 or -1. */
    int tjDestroy(Pointer handle);
}
