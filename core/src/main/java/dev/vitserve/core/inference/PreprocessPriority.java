package dev.vitserve.core.inference;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How the threads that decode and preprocess images share the cores with the engine's threads.
 * The engine's threads wait for each other at every operation, so a decoder running on one of
 * their cores stalls both; at {@link #IDLE} the decoder only fills the moments a core is idle.
 */
public enum PreprocessPriority {

    /**
     * Linux's {@code SCHED_IDLE}: preprocessing gives way at once to any other thread, so it hardly
     * slows the engine, but also gives way to other busy programs on the same machine.
     */
    IDLE,

    /** The priority of every other thread: preprocessing and the engine share the cores evenly. */
    NORMAL;

    private static final ThreadLocal<Boolean> APPLIED = ThreadLocal.withInitial(() -> false);

    /**
     * Gives the calling thread this priority, the first time it calls; threads start {@link #NORMAL}.
     *
     * @throws UnsupportedOperationException off Linux, for {@link #IDLE}
     * @throws IllegalStateException when the system refuses
     */
    public void applyToCurrentThread() {
        if (this == NORMAL || APPLIED.get()) {
            return;
        }
        LinuxThreadScheduling.setPolicy(LinuxThreadScheduling.SCHED_IDLE);
        APPLIED.set(true);
    }

    /** Why this priority cannot be given to threads here, tried on a thread of its own; empty when it can. */
    public Optional<String> unavailableReason() {
        AtomicReference<String> reason = new AtomicReference<>();
        Thread probe = new Thread(() -> {
            try {
                applyToCurrentThread();
            } catch (RuntimeException | LinkageError e) {
                reason.set(e.getMessage());
            }
        }, "vitserve-priority-probe");
        probe.start();
        try {
            probe.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while trying it");
        }
        return Optional.ofNullable(reason.get());
    }
}
