package dev.vitserve.core.image;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of libwebp's C API that decoding needs ({@code decode.h} of {@code libwebp.so.7} and
 * {@code demux.h} of {@code libwebpdemux.so.2}, the libraries Pillow decodes WebP with), bound with
 * JNA to {@code libwebpdemux.so.2}, whose symbol lookup reaches libwebp's too. Sizes are
 * {@code size_t}, passed as {@code long} (64-bit systems only). Constants of libwebp 1.x.
 */
interface WebpLibrary extends Library {

    /** {@code WEBP_DECODER_ABI_VERSION} of libwebp 1.2 (only its major byte must match). */
    int DECODER_ABI_VERSION = 0x0209;
    /** {@code WEBP_DEMUX_ABI_VERSION} of libwebp 1.2 (only its major byte must match). */
    int DEMUX_ABI_VERSION = 0x0107;

    /** Bytes of {@code WebPBitstreamFeatures}: width, height, has_alpha, has_animation, format, 5 padding ints. */
    int FEATURES_SIZE = 40;
    /** Bytes of {@code WebPAnimInfo}: canvas width and height, loop count, background, frame count, 4 padding. */
    int ANIM_INFO_SIZE = 36;
    /** Bytes of {@code WebPData}: a pointer and a size_t. */
    int DATA_SIZE = 16;
    /** {@code VP8_STATUS_OK}. */
    int STATUS_OK = 0;
    /** {@code VP8_STATUS_NOT_ENOUGH_DATA}: the data ends inside its headers. */
    int STATUS_NOT_ENOUGH_DATA = 7;

    /** {@code WebPGetFeaturesInternal}: reads the headers into a {@code WebPBitstreamFeatures}; a VP8 status. */
    int WebPGetFeaturesInternal(Pointer data, long dataSize, Pointer features, int abiVersion);

    /**
     * {@code WebPDecodeRGBInto}: decodes a still image into {@code output} as RGB rows {@code stride}
     * bytes apart; {@code output}, or null when the data cannot be decoded.
     */
    Pointer WebPDecodeRGBInto(Pointer data, long dataSize, Pointer output, long outputSize, int stride);

    /** {@code WebPAnimDecoderNewInternal}: a decoder of an animation ({@code WebPData}), default options if null. */
    Pointer WebPAnimDecoderNewInternal(Pointer webpData, Pointer options, int abiVersion);

    /** {@code WebPAnimDecoderGetInfo}: fills a {@code WebPAnimInfo}; non-zero on success. */
    int WebPAnimDecoderGetInfo(Pointer decoder, Pointer info);

    /**
     * {@code WebPAnimDecoderGetNext}: the next frame composed on the canvas, RGBA (the default mode),
     * owned by the decoder; non-zero on success.
     */
    int WebPAnimDecoderGetNext(Pointer decoder, PointerByReference frame, int[] timestamp);

    /** {@code WebPAnimDecoderDelete}: frees a decoder. */
    void WebPAnimDecoderDelete(Pointer decoder);
}
