package dev.vitserve.core.memory;

import dev.vitserve.core.config.ByteSizeConverter;

/**
 * The one memory budget every request's memory is admitted against ({@code --memory-budget}, by default
 * {@value #HEAP_PERCENT}% of the JVM's max heap): the bytes of its body as it arrives and while it is held, of an
 * image fetched from its URL, of the pixels an image decodes to (from its header, before decoding), of the resize's
 * buffers and of its tensor until the engine has run it. Each is a {@link Claim} taken before the memory is
 * allocated and given back exactly once ({@link Claim#close}, again is harmless): a request's bytes when it ends in
 * any way, a decode's when the decode and preprocessing are done, a tensor's when its inference has run. A claim past
 * the budget is refused, and the caller answers 503 with Retry-After (RESOURCE_EXHAUSTED on gRPC).
 *
 * <p>Two rules keep the budget from starving anyone: request bytes ({@link Kind#REQUEST}: bodies, fetched images) may
 * hold at most half of it, so images already received can always be decoded; and a claim larger than
 * 1/{@value #SMALL_DIVISOR} of the budget never takes its last 1/{@value #RESERVE_DIVISOR}, so ordinary small
 * requests are still served while large ones fill the rest. Thread-safe.
 */
public final class MemoryBudget {

    /** The default budget, in percent of {@link Runtime#maxMemory()}. */
    public static final int HEAP_PERCENT = 60;
    /** The part of the budget (1/N) large claims leave to small ones. */
    static final int RESERVE_DIVISOR = 8;
    /** A claim of at most 1/N of the budget is small. */
    static final int SMALL_DIVISOR = 128;

    /** What a claim holds memory for. */
    public enum Kind {
        /** A request's own bytes: its body, an image fetched for it; at most half the budget together. */
        REQUEST,
        /** Work on an image: its decoded pixels, the resize's buffers, its tensor. */
        WORK
    }

    private final long total;
    private final long requestLimit;
    private final long reserve;
    private final long small;
    private long used;
    private long requestUsed;

    /** A budget of {@code bytes}. */
    public MemoryBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("the memory budget must be positive, got " + bytes);
        }
        this.total = bytes;
        this.requestLimit = bytes / 2;
        this.reserve = bytes / RESERVE_DIVISOR;
        this.small = bytes / SMALL_DIVISOR;
    }

    /** The default budget: {@value #HEAP_PERCENT}% of the JVM's max heap. */
    public static long fromHeap() {
        return Runtime.getRuntime().maxMemory() / 100 * HEAP_PERCENT;
    }

    /** The budget in bytes. */
    public long total() {
        return total;
    }

    /** Bytes claimed now. */
    public synchronized long used() {
        return used;
    }

    /** Bytes claimed now by request bytes (bodies, fetched images). */
    public synchronized long requestUsed() {
        return requestUsed;
    }

    /** The largest claim of {@code kind} that can ever be admitted (one alone in an idle server). */
    public long largest(Kind kind) {
        return (kind == Kind.REQUEST ? requestLimit : total) - reserve;
    }

    /** Claims {@code bytes} (0 for a claim that grows later): the claim, or null when the budget has no room. */
    public Claim claim(Kind kind, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a claim cannot be negative, got " + bytes);
        }
        return take(kind, 0, bytes) ? new Claim(kind, bytes) : null;
    }

    /** A message for a claim refused: the server holds as much as its budget allows for now. */
    public String refusal(String what, long bytes) {
        return "the server holds as much memory as its budget of " + ByteSizeConverter.format(total) + " allows ("
                + what + " would need " + ByteSizeConverter.format(bytes) + " more); retry after the time in Retry-After";
    }

    private synchronized boolean take(Kind kind, long held, long more) {
        if (more == 0) {
            return true;
        }
        long room = total;
        long kindRoom = kind == Kind.REQUEST ? requestLimit : total;
        if (held + more > small) {
            room -= reserve;
            kindRoom -= reserve;
        }
        long kindUsed = kind == Kind.REQUEST ? requestUsed : used;
        if (used + more > room || kindUsed + more > kindRoom) {
            return false;
        }
        used += more;
        if (kind == Kind.REQUEST) {
            requestUsed += more;
        }
        return true;
    }

    private synchronized void give(Kind kind, long bytes) {
        used -= bytes;
        if (kind == Kind.REQUEST) {
            requestUsed -= bytes;
        }
    }

    /** Memory held from the budget, given back exactly once. */
    public final class Claim implements AutoCloseable {
        private final Kind kind;
        private long held;
        private boolean closed;

        private Claim(Kind kind, long held) {
            this.kind = kind;
            this.held = held;
        }

        /** Holds {@code more} bytes too: false, holding nothing more, when the budget has no room; true once closed. */
        public boolean grow(long more) {
            synchronized (MemoryBudget.this) {
                if (closed) {
                    return true;
                }
                if (!take(kind, held, more)) {
                    return false;
                }
                held += more;
                return true;
            }
        }

        /** Gives back what it holds beyond {@code bytes} (a chunked body smaller than the bound reserved for it). */
        public void shrinkTo(long bytes) {
            synchronized (MemoryBudget.this) {
                if (!closed && bytes < held) {
                    give(kind, held - bytes);
                    held = bytes;
                }
            }
        }

        /** The bytes it holds now. */
        public long held() {
            synchronized (MemoryBudget.this) {
                return closed ? 0 : held;
            }
        }

        /** Gives everything back; again is harmless. */
        @Override
        public void close() {
            synchronized (MemoryBudget.this) {
                if (!closed) {
                    closed = true;
                    give(kind, held);
                    held = 0;
                }
            }
        }
    }
}
