package dev.vitserve.core.image;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Idle TurboJPEG decompressors with their buffers, lent to one decode at a time, so that decoding
 * neither creates an instance nor allocates (and page-faults in) tens of megabytes per image.
 * Thread-safe.
 *
 * <p>Bounded: at most {@code maxIdle} decompressors wait here, and each keeps at most
 * {@code maxBufferBytes} per buffer; larger buffers (a very large image) are freed when the
 * decompressor comes back. So at most about {@code maxIdle * 2 * maxBufferBytes} of native memory
 * stays allocated between requests.
 */
final class TurboJpegPool {

    private final TurboJpegLibrary library;
    private final int maxIdle;
    private final long maxBufferBytes;
    private final Deque<TurboJpegDecompressor> idle = new ArrayDeque<>();

    TurboJpegPool(TurboJpegLibrary library, int maxIdle, long maxBufferBytes) {
        this.library = library;
        this.maxIdle = maxIdle;
        this.maxBufferBytes = maxBufferBytes;
    }

    /** An idle decompressor (the most recently used one, its buffers most likely warm), or a new one. */
    TurboJpegDecompressor borrow() throws IOException {
        synchronized (idle) {
            TurboJpegDecompressor decompressor = idle.pollFirst();
            if (decompressor != null) {
                return decompressor;
            }
        }
        return TurboJpegDecompressor.create(library);
    }

    /** Takes a decompressor back once its pixels are no longer read; destroys it when enough are idle. */
    void giveBack(TurboJpegDecompressor decompressor) {
        if (!decompressor.usable()) {
            decompressor.close();
            return;
        }
        decompressor.trimBuffers(maxBufferBytes);
        synchronized (idle) {
            if (idle.size() < maxIdle) {
                idle.addFirst(decompressor);
                return;
            }
        }
        decompressor.close();
    }

    /** Native bytes held by idle decompressors. */
    long idleBufferBytes() {
        synchronized (idle) {
            return idle.stream().mapToLong(TurboJpegDecompressor::bufferBytes).sum();
        }
    }

    /** Idle decompressors. */
    int idleCount() {
        synchronized (idle) {
            return idle.size();
        }
    }
}
