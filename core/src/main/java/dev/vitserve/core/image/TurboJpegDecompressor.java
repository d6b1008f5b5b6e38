package dev.vitserve.core.image;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One TurboJPEG decompressor instance ({@code tjhandle}) with the native buffers it reads the JPEG
 * from and decodes into, kept for the next image. Not thread-safe; {@link #close()} frees all of it.
 *
 * <p>Always full size, libjpeg's accurate integer IDCT and fancy (interpolating) chroma upsampling:
 * the settings Pillow decodes with, so the same library gives the same bytes.
 */
final class TurboJpegDecompressor implements AutoCloseable {

    /** Buffers grow in steps of this many bytes, so that images of similar sizes reuse them. */
    private static final long GRANULE = 1 << 20;

    /** What the header's integer outputs hold until TurboJPEG writes them. */
    private static final int UNSET = Integer.MIN_VALUE;

    /**
     * What {@code tjDecompressHeader3} reads.
     *
     * @param colorspace libjpeg's guess of the JPEG's colour space, a {@code TJCS_} constant, or
     *     negative when TurboJPEG cannot name it (e.g. two components)
     */
    record Header(int width, int height, int colorspace) {
    }

    private final TurboJpegLibrary library;
    private Pointer handle;
    private Memory input;
    private long inputLength;
    private Memory output;

    private TurboJpegDecompressor(TurboJpegLibrary library, Pointer handle) {
        this.library = library;
        this.handle = handle;
    }

    /** A new instance; fails when libjpeg-turbo cannot make one (out of memory). */
    static TurboJpegDecompressor create(TurboJpegLibrary library) throws IOException {
        Pointer handle = library.tjInitDecompress();
        if (handle == null) {
            throw new IOException("libjpeg-turbo could not create a decompressor: " + library.tjGetErrorStr2(null));
        }
        return new TurboJpegDecompressor(library, handle);
    }

    /**
     * Copies {@code jpeg} into the input buffer and reads its header. Warnings (libjpeg read the
     * header despite a problem, e.g. junk between segments) are ignored here: decoding meets them again.
     *
     * @throws IOException with libjpeg's message when the header cannot be read
     */
    Header readHeader(byte[] jpeg) throws IOException {
        input = ensure(input, jpeg.length);
        input.write(0, jpeg, 0, jpeg.length);
        inputLength = jpeg.length;
        int[] width = {0};
        int[] height = {0};
        int[] subsampling = {UNSET};
        int[] colorspace = {UNSET};
        if (library.tjDecompressHeader3(handle, input, new NativeLong(inputLength), width, height, subsampling,
                colorspace) != 0) {
            // -1 also for mere warnings, and tjGetErrorCode says "warning" even when an error followed
            // one; but the outputs are only written once libjpeg has read the whole header. TurboJPEG
            // then also fails for sampling factors it has no name for, which tjDecompress2 decodes
            // all the same (libjpeg does the work), and for colour spaces it has no name for.
            String message = library.tjGetErrorStr2(handle);
            renewHandle();
            if (width[0] <= 0 || height[0] <= 0 || subsampling[0] == UNSET || colorspace[0] == UNSET) {
                throw new IOException(message);
            }
        }
        return new Header(width[0], height[0], colorspace[0]);
    }

    /**
     * Decodes the JPEG last given to {@link #readHeader} into the output buffer, rows of
     * {@code width * bytesPerPixel} bytes, top to bottom, stopping at libjpeg's first warning.
     *
     * @return null when the image decoded cleanly, else that first warning (the image is incomplete:
     *     call {@link #decompressThroughWarnings} if the warning is no reason to refuse it)
     * @throws IOException with libjpeg's message when it could not decode the image
     */
    String decompress(Header header, int pixelFormat, int bytesPerPixel) throws IOException {
        if (run(header, pixelFormat, bytesPerPixel, TurboJpegLibrary.TJFLAG_STOPONWARNING)) {
            return null;
        }
        boolean warning = library.tjGetErrorCode(handle) == TurboJpegLibrary.TJERR_WARNING;
        String message = library.tjGetErrorStr2(handle);
        renewHandle();
        if (!warning) {
            throw new IOException(message);
        }
        return message;
    }

    /**
     * Decodes the same JPEG again through its warnings, as Pillow does (libjpeg fills what it could
     * not decode with grey).
     *
     * @param firstWarning what {@link #decompress} returned
     * @throws IOException with libjpeg's message when an error followed the warnings
     */
    void decompressThroughWarnings(Header header, int pixelFormat, int bytesPerPixel, String firstWarning)
            throws IOException {
        if (run(header, pixelFormat, bytesPerPixel, 0)) {
            return;
        }
        // TurboJPEG reports any failure after a warning as a warning. libjpeg formats only its first
        // warning, and every error: the same first warning means no error came after it.
        String message = library.tjGetErrorStr2(handle);
        renewHandle();
        if (!firstWarning.equals(message)) {
            throw new IOException(message);
        }
    }

    private boolean run(Header header, int pixelFormat, int bytesPerPixel, int flags) {
        int pitch = header.width() * bytesPerPixel;
        output = ensure(output, (long) pitch * header.height());
        return library.tjDecompress2(handle, input, new NativeLong(inputLength), output, header.width(), pitch,
                header.height(), pixelFormat, TurboJpegLibrary.TJFLAG_ACCURATEDCT | flags) == 0;
    }

    /**
     * Replaces the instance after a failure or warning. libjpeg-turbo 2.1's {@code tjDecompressHeader3}
     * returns from an error without resetting the decoder, and the next header read on that instance
     * then starts in the middle of the failed one (seen as "Bogus Huffman table definition" on a sound file).
     */
    private void renewHandle() {
        library.tjDestroy(handle);
        handle = library.tjInitDecompress();
    }

    /** Whether the instance can decode another image (false if it could not be renewed after a failure). */
    boolean usable() {
        return handle != null;
    }

    /** The decoded pixels: the first {@code length} bytes of the output buffer, valid until the next decode. */
    ByteBuffer pixels(long length) {
        return output.getByteBuffer(0, length);
    }

    /** Bytes of native memory held in buffers. */
    long bufferBytes() {
        return (input == null ? 0 : input.size()) + (output == null ? 0 : output.size());
    }

    /** Frees the buffers larger than {@code maxBytes}; the next image allocates what it needs. */
    void trimBuffers(long maxBytes) {
        if (input != null && input.size() > maxBytes) {
            input.close();
            input = null;
        }
        if (output != null && output.size() > maxBytes) {
            output.close();
            output = null;
        }
    }

    private static Memory ensure(Memory buffer, long bytes) {
        if (buffer != null && buffer.size() >= bytes) {
            return buffer;
        }
        if (buffer != null) {
            buffer.close();
        }
        return new Memory(Math.max(GRANULE, (bytes + GRANULE - 1) / GRANULE * GRANULE));
    }

    /** Destroys the instance and frees the buffers. */
    @Override
    public void close() {
        trimBuffers(-1);
        if (handle != null) {
            library.tjDestroy(handle);
            handle = null;
        }
    }
}
