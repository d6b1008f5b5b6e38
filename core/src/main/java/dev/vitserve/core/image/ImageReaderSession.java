package dev.vitserve.core.image;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * One ImageIO reader on an in-memory image, with the checks vitserve needs: the pixel cap read
 * from the header, the decode deadline, and the reader's warnings (a truncated JPEG is only a warning to ImageIO).
 * Not thread-safe; one per decode. Close it to dispose the reader.
 */
final class ImageReaderSession implements AutoCloseable {

    static {
        ImageIO.setUseCache(false); // no temporary files
    }

    private final ImageFormat format;
    private final ImageInputStream input;
    private final ImageReader reader;
    private final List<String> warnings = new ArrayList<>();

    private ImageReaderSession(ImageFormat format, ImageInputStream input, ImageReader reader) {
        this.format = format;
        this.input = input;
        this.reader = reader;
    }

    /**
     * Opens {@code data} with the preferred reader for {@code format} ({@code preferredPrefix} is
     * the start of the reader's class name; any reader of the format is used if it is missing).
     */
    static ImageReaderSession open(byte[] data, ImageFormat format, String formatName, String preferredPrefix,
            boolean readMetadata) throws ImageDecodeException {
        ImageReader chosen = null;
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(formatName);
        while (readers.hasNext()) {
            ImageReader candidate = readers.next();
            if (chosen == null || candidate.getClass().getName().startsWith(preferredPrefix)) {
                if (chosen != null) {
                    chosen.dispose();
                }
                chosen = candidate;
            } else {
                candidate.dispose();
            }
        }
        if (chosen == null) {
            throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "this server has no " + format.displayName() + " decoder installed");
        }
        ImageInputStream input = new ByteArrayImageInputStream(data);
        ImageReaderSession session = new ImageReaderSession(format, input, chosen);
        try {
            chosen.addIIOReadWarningListener((source, warning) -> session.warnings.add(warning));
            chosen.setInput(input, true, !readMetadata);
        } catch (RuntimeException e) {
            session.close(); // e.g. TwelveMonkeys reports an unreadable header as IllegalStateException
            throw e;
        }
        return session;
    }

    ImageReader reader() {
        return reader;
    }

    /** Reads the size of the first image from the header and checks it against {@code limits}. */
    void checkPixels(DecodeLimits limits) throws IOException, ImageDecodeException {
        limits.checkPixels(format, reader.getWidth(0), reader.getHeight(0));
    }

    /** What a reader call does, which may fail. */
    interface ReaderCall<T> {
        /** Calls the reader. */
        T call(ImageReader reader) throws IOException;
    }

    /**
     * Runs {@code call} (a read of pixels) under the decode deadline, which stops it with
     * {@code ImageReader.abort()}; a stopped read is refused, whatever it returned or threw.
     */
    <T> T underDeadline(DecodeLimits limits, ReaderCall<T> call) throws IOException, ImageDecodeException {
        try (DecodeDeadline.Watch watch = limits.watch(format, reader::abort)) {
            T result;
            try {
                result = call.call(reader);
            } catch (IOException | RuntimeException e) {
                watch.close();
                watch.throwIfExpired();
                throw e;
            }
            watch.close();
            watch.throwIfExpired();
            return result;
        }
    }

    /** The warnings the reader reported so far. */
    List<String> warnings() {
        return warnings;
    }

    @Override
    public void close() {
        reader.dispose();
        try {
            input.close();
        } catch (IOException ignored) {
            // an in-memory stream: nothing to release
        }
    }
}
