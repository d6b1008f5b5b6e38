package dev.vitserve.core.hub;

import dev.vitserve.core.config.ByteSizeConverter;
import dev.vitserve.core.hub.HubException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** Turns a full disk into a message that names the folder and the space needed, before and during a download. */
final class DiskErrors {

    private DiskErrors() {
    }

    /** Fails early when the folder's disk has less room than the rest of a download needs (blocking). */
    static void checkSpace(Path folder, long needed, String what) throws HubException {
        long usable;
        try {
            usable = Files.getFileStore(folder).getUsableSpace();
        } catch (IOException | SecurityException e) {
            return; // cannot tell: the write itself will say if the disk fills up
        }
        Optional<String> shortage = shortage(folder, needed, usable, what);
        if (shortage.isPresent()) {
            throw new HubException(Kind.DISK_FULL, shortage.get());
        }
    }

    /** The message when {@code needed} bytes do not fit in {@code usable}. */
    static Optional<String> shortage(Path folder, long needed, long usable, String what) {
        if (usable >= needed) {
            return Optional.empty();
        }
        return Optional.of("not enough disk space in " + folder + " for " + what + ": it needs "
                + ByteSizeConverter.format(needed) + " more, " + ByteSizeConverter.format(Math.max(0, usable))
                + " are free; free some space or point HF_HUB_CACHE (or HF_HOME) at a bigger disk");
    }

    /** A failure to write {@code target}, with {@code needed} bytes still to come. */
    static HubException writeFailure(Path target, long needed, Throwable failure) {
        if (failure instanceof HubException hub) {
            return hub;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (message.contains("no space left") || message.contains("disk quota exceeded")) {
                return new HubException(Kind.DISK_FULL, "the disk holding " + target.getParent() + " is full ("
                        + t.getMessage() + ")" + (needed > 0 ? " with " + ByteSizeConverter.format(needed) + " of "
                        + target.getFileName() + " still to write" : "") + ": free some space or point HF_HUB_CACHE "
                        + "(or HF_HOME) at a bigger disk, then start again to resume", failure);
            }
        }
        return new HubException(Kind.OTHER, "cannot write " + target + ": " + failure.getMessage()
                + "; check that the cache folder (HF_HUB_CACHE) is writable", failure);
    }
}
