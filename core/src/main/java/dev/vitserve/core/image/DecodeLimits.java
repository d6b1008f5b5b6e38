package dev.vitserve.core.image;

import dev.vitserve.core.memory.MemoryBudget;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one decode may spend: pixels (the per-image cap, and what is left of its request's
 * allowance, both checked on the size the header announces), memory (the bytes those pixels decode to,
 * claimed from the server's {@link MemoryBudget} before any is decoded) and time ({@link DecodeDeadline}).
 */
final class DecodeLimits {

    private final long maxPixels;
    private final RequestPixels request;
    private final DecodeDeadline deadline;
    private final MemoryBudget budget;
    private final FormatDecoder decoder;
    private final boolean turned;
    private final AtomicReference<MemoryBudget.Claim> claim;

    DecodeLimits(long maxPixels, RequestPixels request, DecodeDeadline deadline) {
        this(maxPixels, request, deadline, null, null, false, new AtomicReference<>());
    }

    /**
     * Limits whose pixels are also claimed from {@code budget} (null: none) at {@code decoder}'s bytes per pixel, and
     * those of turning the image upright when {@code turned}.
     */
    DecodeLimits(long maxPixels, RequestPixels request, DecodeDeadline deadline, MemoryBudget budget,
                 FormatDecoder decoder, boolean turned) {
        this(maxPixels, request, deadline, budget, decoder, turned, new AtomicReference<>());
    }

    private DecodeLimits(long maxPixels, RequestPixels request, DecodeDeadline deadline, MemoryBudget budget,
                         FormatDecoder decoder, boolean turned, AtomicReference<MemoryBudget.Claim> claim) {
        this.maxPixels = maxPixels;
        this.request = request;
        this.deadline = deadline;
        this.budget = budget;
        this.decoder = decoder;
        this.turned = turned;
        this.claim = claim;
    }

    /** The same limits for another decoder (a fallback), sharing their claim. */
    DecodeLimits forDecoder(FormatDecoder other) {
        return new DecodeLimits(maxPixels, request, deadline, budget, other, turned, claim);
    }

    /**
     * Refuses an impossible size or one over the cap, then claims the pixels from the request's allowance and
     * their bytes from the memory budget: 413 when they could never fit it, 503 ({@code BUSY}) when it is full now.
     */
    void checkPixels(ImageFormat format, long width, long height) throws ImageDecodeException {
        PixelLimit.check(format, width, height, maxPixels);
        request.claim(width * height);
        if (budget == null || decoder == null) {
            return;
        }
        long bytes = width * height * (decoder.bytesPerPixel() + (turned ? decoder.turnedBytesPerPixel() : 0));
        if (bytes > budget.largest(MemoryBudget.Kind.WORK)) {
            throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS, "the " + format.displayName()
                    + " image is " + width + "x" + height + ": decoding it needs "
                    + dev.vitserve.core.config.ByteSizeConverter.format(bytes) + ", more than this server's memory"
                    + " budget can give one image (send a smaller image)");
        }
        MemoryBudget.Claim taken = budget.claim(MemoryBudget.Kind.WORK, bytes);
        if (taken == null) {
            throw new ImageDecodeException(ImageDecodeException.Reason.BUSY, budget.refusal("decoding this image", bytes));
        }
        MemoryBudget.Claim before = claim.getAndSet(taken);
        if (before != null) {
            before.close();
        }
    }

    /** The decode's memory claim, for the decoded image to hold (null when none was taken); it is no longer here. */
    MemoryBudget.Claim takeClaim() {
        return claim.getAndSet(null);
    }

    /** Gives the decode's memory back (a decode that failed). */
    void release() {
        MemoryBudget.Claim taken = claim.getAndSet(null);
        if (taken != null) {
            taken.close();
        }
    }

    /** Starts the deadline of a decode that {@code abort} can stop (see {@link DecodeDeadline#watch}). */
    DecodeDeadline.Watch watch(ImageFormat format, Runnable abort) {
        return deadline.watch(format, abort);
    }
}
