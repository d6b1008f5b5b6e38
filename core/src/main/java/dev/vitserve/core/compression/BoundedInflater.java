package dev.vitserve.core.compression;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * Inflates a gzip or deflate (zlib) payload within a byte bound, refusing it as soon as the inflated bytes pass the
 * bound rather than after inflating all of it; shared by the gRPC messages and the REST bodies. Blocking CPU work:
 * call it on a worker thread.
 */
public final class BoundedInflater {

    /** The encodings offered, as HTTP's Content-Encoding and gRPC's grpc-encoding name them. */
    public static final String OFFERED = "gzip, deflate";

    private BoundedInflater() {
    }

    /** Whether {@code encoding} is one this inflates. */
    public static boolean inflates(String encoding) {
        String name = encoding.trim().toLowerCase(Locale.ROOT);
        return name.equals("gzip") || name.equals("x-gzip") || name.equals("deflate");
    }

    /** The payload inflated past the bound. */
    public static final class TooLarge extends Exception {
        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    /** The payload is not valid data of its encoding (truncated, or not compressed at all). */
    public static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** The inflated bytes, read without a copy: {@code bytes()} holds {@code size()} of them. */
    public static final class Inflated extends ByteArrayOutputStream {
        Inflated(int size) {
            super(size);
        }

        /** The buffer, valid up to {@link #size()}. */
        public byte[] bytes() {
            return buf;
        }
    }

    /** Inflates {@code length} bytes of {@code compressed} from {@code offset}; never more than {@code maxSize}. */
    public static Inflated inflate(String encoding, byte[] compressed, int offset, int length, long maxSize)
            throws TooLarge, Malformed {
        String name = encoding.trim().toLowerCase(Locale.ROOT);
        Inflated out = new Inflated((int) Math.min(Math.max(length * 4L, 1024), maxSize));
        ByteArrayInputStream source = new ByteArrayInputStream(compressed, offset, length);
        try (InputStream in = name.equals("deflate") ? new InflaterInputStream(source) : new GZIPInputStream(source)) {
            byte[] chunk = new byte[64 * 1024];
            long total = 0;
            for (int read = in.read(chunk); read >= 0; read = in.read(chunk)) {
                total += read;
                if (total > maxSize) {
                    throw new TooLarge("the " + name + " data inflates past " + maxSize + " bytes, the bound");
                }
                out.write(chunk, 0, read);
            }
        } catch (IOException e) {
            throw new Malformed("the data is not valid " + name + " (truncated or not compressed)");
        }
        return out;
    }
}
