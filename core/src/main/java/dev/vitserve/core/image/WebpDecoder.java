package dev.vitserve.core.image;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * Decodes WebP with libwebp, the library Pillow decodes it with, the way Pillow 9.4 does: a still
 * image with {@code WebPDecodeRGBInto} (the RGB of Pillow's RGBA or RGBX decode: alpha is dropped,
 * colours are not premultiplied), the first frame of an animation composed on its canvas by
 * libwebp's animation decoder, as Pillow's {@code WebPAnimDecoder} does. So the same pixels, lossy
 * ones included.
 *
 * <p>Bounded: libwebp's decoding time is linear in the pixels and the bytes (it is fuzzed without
 * end by OSS-Fuzz), damaged data fails within the first bad bytes, and its memory is the output
 * buffer (plus, for animations, libwebp's two canvases). The size is checked from the headers
 * before anything is allocated. A file shorter than its RIFF header says is refused as truncated.
 */
final class WebpDecoder implements FormatDecoder {

    private static final int RGB = 3;

    private final WebpLibrary library;

    WebpDecoder(WebpLibrary library) {
        this.library = library;
    }

    /** libwebp's output (3, or an animation's two RGBA canvases, 8) and the RGB pixels on the heap (3). */
    @Override
    public int bytesPerPixel() {
        return 11;
    }

    @Override
    public RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException {
        checkRiffLength(data);
        try (Memory input = new Memory(data.length); Memory features = new Memory(WebpLibrary.FEATURES_SIZE)) {
            input.write(0, data, 0, data.length);
            features.clear();
            int status = library.WebPGetFeaturesInternal(input, data.length, features, WebpLibrary.DECODER_ABI_VERSION);
            if (status == WebpLibrary.STATUS_NOT_ENOUGH_DATA) {
                throw truncated();
            }
            if (status != WebpLibrary.STATUS_OK) {
                throw damaged();
            }
            int width = features.getInt(0);
            int height = features.getInt(4);
            boolean animated = features.getInt(12) != 0;
            limits.checkPixels(ImageFormat.WEBP, width, height);
            return animated ? firstFrame(input, data.length, width, height) : still(input, data.length, width, height);
        }
    }

    private RgbImage still(Memory input, long length, int width, int height) throws ImageDecodeException {
        long size = (long) width * height * RGB;
        try (Memory output = new Memory(size)) {
            if (library.WebPDecodeRGBInto(input, length, output, size, width * RGB) == null) {
                throw damaged();
            }
            byte[] pixels = new byte[(int) size];
            output.read(0, pixels, 0, pixels.length);
            return new RgbImage(width, height, pixels);
        }
    }

    private RgbImage firstFrame(Memory input, long length, int width, int height) throws ImageDecodeException {
        try (Memory webpData = new Memory(WebpLibrary.DATA_SIZE); Memory info = new Memory(WebpLibrary.ANIM_INFO_SIZE)) {
            webpData.setPointer(0, input);
            webpData.setLong(8, length); // after the 8-byte pointer
            Pointer decoder = library.WebPAnimDecoderNewInternal(webpData, null, WebpLibrary.DEMUX_ABI_VERSION);
            if (decoder == null) {
                throw damaged();
            }
            try {
                PointerByReference frame = new PointerByReference();
                if (library.WebPAnimDecoderGetInfo(decoder, info) == 0 || info.getInt(0) != width
                        || info.getInt(4) != height || library.WebPAnimDecoderGetNext(decoder, frame, new int[1]) == 0) {
                    throw damaged();
                }
                return dropAlpha(frame.getValue(), width, height);
            } finally {
                library.WebPAnimDecoderDelete(decoder);
            }
        }
    }

    private static RgbImage dropAlpha(Pointer rgba, int width, int height) {
        byte[] row = new byte[width * 4];
        byte[] pixels = new byte[width * height * RGB];
        for (int y = 0, o = 0; y < height; y++) {
            rgba.read((long) y * row.length, row, 0, row.length);
            for (int i = 0; i < row.length; i += 4) {
                pixels[o++] = row[i];
                pixels[o++] = row[i + 1];
                pixels[o++] = row[i + 2];
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /** Refuses a WebP file shorter than its RIFF header says, as libwebp does in Pillow. */
    private static void checkRiffLength(byte[] data) throws ImageDecodeException {
        long riffLength = (data[4] & 0xFFL) | (data[5] & 0xFFL) << 8 | (data[6] & 0xFFL) << 16 | (data[7] & 0xFFL) << 24;
        if (data.length < riffLength + 8) {
            throw truncated();
        }
    }

    private static ImageDecodeException truncated() {
        return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "the WebP data ends early (truncated file)");
    }

    private static ImageDecodeException damaged() {
        return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "the WebP data is damaged and cannot be decoded");
    }
}
