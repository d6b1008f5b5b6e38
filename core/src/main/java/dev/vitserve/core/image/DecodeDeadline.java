package dev.vitserve.core.image;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The per-image decode deadline ({@code --max-decode-ms}) for the decoders that can be stopped
 * (the JDK's ImageIO readers, through {@code ImageReader.abort()}): a watch started on the decoding
 * thread aborts the decode once that thread has spent the deadline in CPU time (the image is too
 * costly: {@link ImageDecodeException.Reason#TOO_SLOW}), or once {@value #BUSY_FACTOR} times the
 * deadline have passed on the clock with less CPU than that (the machine is busy:
 * {@link ImageDecodeException.Reason#BUSY}). One daemon thread checks every watch; thread-safe.
 */
final class DecodeDeadline {

    /** How many deadlines of wall time a decode may take when other work kept its thread off the cores. */
    static final int BUSY_FACTOR = 4;

    /**
     * Started with the first deadline made (when a server builds its decoder), not lazily from a
     * preprocessing thread: a thread inherits its parent's scheduling policy, and at idle priority the
     * timer would starve under load.
     */
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, task -> {
        Thread thread = new Thread(task, "vitserve-decode-deadline");
        thread.setDaemon(true);
        return thread;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
        TIMER.prestartAllCoreThreads();
    }
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long MIN_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final long maxNanos;

    /** A deadline of {@code maxMillis} milliseconds of CPU per decode. */
    DecodeDeadline(long maxMillis) {
        if (maxMillis <= 0) {
            throw new IllegalArgumentException("the decode deadline must be positive, got " + maxMillis);
        }
        this.maxNanos = TimeUnit.MILLISECONDS.toNanos(maxMillis);
    }

    /** The deadline in milliseconds. */
    long millis() {
        return TimeUnit.NANOSECONDS.toMillis(maxNanos);
    }

    /** Watches the decode running on the calling thread; {@code abort} is called (once, from another thread) to stop it. */
    Watch watch(ImageFormat format, Runnable abort) {
        Watch watch = new Watch(format, abort);
        watch.schedule(maxNanos);
        return watch;
    }

    /** One decode's watch: close it when the decode is over, then ask {@link #throwIfExpired()}. */
    final class Watch implements AutoCloseable {
        private final ImageFormat format;
        private final Runnable abort;
        private final long threadId = Thread.currentThread().getId();
        private final long startWall = System.nanoTime();
        private final long startCpu = cpuNanos(threadId);
        private ScheduledFuture<?> next;
        private ImageDecodeException.Reason expired;
        private boolean closed;

        private Watch(ImageFormat format, Runnable abort) {
            this.format = format;
            this.abort = abort;
        }

        private synchronized void schedule(long delayNanos) {
            if (!closed) {
                next = TIMER.schedule(this::check, Math.max(MIN_CHECK_NANOS, delayNanos), TimeUnit.NANOSECONDS);
            }
        }

        private void check() {
            long cpu = cpuNanos(threadId) - startCpu;
            long wall = System.nanoTime() - startWall;
            boolean stop;
            synchronized (this) {
                if (closed) {
                    return;
                }
                stop = cpu >= maxNanos || wall >= BUSY_FACTOR * maxNanos;
                if (stop) {
                    expired = cpu >= maxNanos ? ImageDecodeException.Reason.TOO_SLOW : ImageDecodeException.Reason.BUSY;
                    closed = true;
                }
            }
            if (stop) {
                abort.run();
            } else {
                schedule(Math.min(maxNanos - cpu, BUSY_FACTOR * maxNanos - wall));
            }
        }

        /** Refuses the image when the deadline stopped its decode (what it produced is incomplete). */
        synchronized void throwIfExpired() throws ImageDecodeException {
            if (expired == ImageDecodeException.Reason.TOO_SLOW) {
                throw new ImageDecodeException(expired, "the " + format.displayName() + " image took more than "
                        + millis() + " ms of CPU to decode, this server's limit (--max-decode-ms); it was stopped");
            }
            if (expired == ImageDecodeException.Reason.BUSY) {
                throw new ImageDecodeException(expired, "the server is too busy to decode the " + format.displayName()
                        + " image in time; try again shortly");
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
        }
    }

    private static long cpuNanos(long threadId) {
        long cpu = THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(threadId) : -1;
        return cpu < 0 ? 0 : cpu;
    }
}
