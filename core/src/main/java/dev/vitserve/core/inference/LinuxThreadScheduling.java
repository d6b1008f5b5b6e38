package dev.vitserve.core.inference;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/** Linux's scheduling policy of the calling thread, read and set through the C library. */
final class LinuxThreadScheduling {

    /** The default time-sharing policy. */
    static final int SCHED_OTHER = 0;
    /** Runs only when no thread of another policy wants the core. */
    static final int SCHED_IDLE = 5;

    private interface CLibrary extends Library {
        int sched_setscheduler(int pid, int policy, int[] param) throws LastErrorException;

        int sched_getscheduler(int pid) throws LastErrorException;
    }

    /** Loaded on first use, so that other systems never try. */
    private static final class Holder {
        static final CLibrary C = Native.load(Platform.C_LIBRARY_NAME, CLibrary.class);
    }

    private LinuxThreadScheduling() {
    }

    /**
     * Gives the calling thread (pid 0) the policy, at static priority 0.
     *
     * @throws UnsupportedOperationException off Linux
     * @throws IllegalStateException with the system's reason when it refuses
     */
    static void setPolicy(int policy) {
        requireLinux();
        try {
            Holder.C.sched_setscheduler(0, policy, new int[] {0});
        } catch (LastErrorException e) {
            throw new IllegalStateException("sched_setscheduler refused: " + e.getMessage(), e);
        }
    }

    /** The calling thread's policy. */
    static int policy() {
        requireLinux();
        return Holder.C.sched_getscheduler(0);
    }

    private static void requireLinux() {
        if (!Platform.isLinux()) {
            throw new UnsupportedOperationException("thread scheduling policies need Linux, this is "
                    + System.getProperty("os.name"));
        }
    }
}
