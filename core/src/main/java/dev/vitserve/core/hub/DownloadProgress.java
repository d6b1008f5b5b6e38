package dev.vitserve.core.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows how a download goes: a progress bar redrawn in place when a person watches the terminal, else a
 * log line every 10% or every 10 seconds (bytes, percent, rate, time left); and, all along, the status text
 * {@code /health/ready} reports. Files under {@value #QUIET_BELOW} bytes only update the status text.
 * Fed from the event loop, one chunk at a time.
 */
final class DownloadProgress {

    private static final Logger LOG = LoggerFactory.getLogger(DownloadProgress.class);
    static final long QUIET_BELOW = 1 << 20;
    static final long LOG_EVERY_NANOS = 10_000_000_000L;
    private static final long REDRAW_EVERY_NANOS = 200_000_000L;
    private static final long STATUS_EVERY_NANOS = 250_000_000L;
    private static final int BAR_WIDTH = 30;

    /** Where progress goes: a terminal to draw a bar on (or null), and the log. */
    record Output(PrintStream terminal, Consumer<String> log) {
        /** The terminal if this process has one, else the log. */
        static Output forThisProcess() {
            return new Output(System.console() != null ? System.out : null, LOG::info);
        }
    }

    private final String repo;
    private final String file;
    private final long total;
    private final long startedAt;
    private final Output output;
    private final Consumer<String> status;
    private final LongSupplier clock;
    private final long startNanos;
    private long done;
    private int nextLoggedTenth;
    private long lastLogNanos;
    private long lastDrawNanos = Long.MIN_VALUE / 2;
    private long lastStatusNanos = Long.MIN_VALUE / 2;
    private boolean finished;

    /**
     * @param alreadyThere bytes kept from an earlier, interrupted download
     * @param status receives the text {@code /health/ready} shows
     */
    DownloadProgress(String repo, String file, long total, long alreadyThere, Output output, Consumer<String> status,
                     LongSupplier clock) {
        this.repo = repo;
        this.file = file;
        this.total = total;
        this.startedAt = alreadyThere;
        this.done = alreadyThere;
        this.output = output;
        this.status = status;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.lastLogNanos = startNanos;
        this.nextLoggedTenth = tenths() + 1;
        if (loud() && output.terminal() == null) {
            output.log().accept("downloading " + file + " of " + repo + ": " + size(total)
                    + (alreadyThere > 0 ? ", resuming at " + size(alreadyThere) : ""));
        }
        status.accept(statusText());
    }

    /** Counts a chunk that arrived. */
    void advance(long bytes) {
        done += bytes;
        long now = clock.getAsLong();
        if (now - lastStatusNanos >= STATUS_EVERY_NANOS) {
            lastStatusNanos = now;
            status.accept(statusText());
        }
        if (!loud()) {
            return;
        }
        if (output.terminal() != null) {
            if (now - lastDrawNanos >= REDRAW_EVERY_NANOS) {
                lastDrawNanos = now;
                output.terminal().print("\r" + bar(now));
                output.terminal().flush();
            }
        } else if (tenths() >= nextLoggedTenth || now - lastLogNanos >= LOG_EVERY_NANOS) {
            nextLoggedTenth = tenths() + 1;
            lastLogNanos = now;
            output.log().accept(line(now));
        }
    }

    /** The download ended (complete or not): ends the bar's line. */
    void finish() {
        if (finished) {
            return;
        }
        finished = true;
        status.accept(statusText());
        if (loud() && output.terminal() != null) {
            output.terminal().print("\r" + bar(clock.getAsLong()) + System.lineSeparator());
            output.terminal().flush();
        }
    }

    private boolean loud() {
        return total >= QUIET_BELOW;
    }

    private int tenths() {
        return total <= 0 ? 10 : (int) Math.min(10, done * 10 / total);
    }

    private int percent() {
        return total <= 0 ? 100 : (int) Math.min(100, done * 100 / total);
    }

    /** The text {@code /health/ready} shows: "downloading google/vit-base-patch16-224: model.safetensors 40% ...". */
    String statusText() {
        return "downloading " + repo + ": " + file + " " + percent() + "% (" + size(done) + " of "
                + size(total) + ")";
    }

    /** A log line: "model.safetensors of org/name: 140.2 MB of 346.3 MB (40%), 12.5 MB/s, about 17 s left". */
    String line(long now) {
        return file + " of " + repo + ": " + size(done) + " of " + size(total)
                + " (" + percent() + "%), " + rate(now) + eta(now);
    }

    private String bar(long now) {
        int filled = total <= 0 ? BAR_WIDTH : (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
        return String.format(Locale.ROOT, "%s %3d%% [%s%s] %s / %s %s%s", file, percent(), "#".repeat(filled),
                " ".repeat(BAR_WIDTH - filled), size(done), size(total),
                rate(now), eta(now));
    }

    /** A byte count with one decimal, steady while it grows: "900 bytes", "193.3 KB", "346.3 MB", "1.2 GB". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        String[] units = {"KB", "MB", "GB", "TB"};
        double value = bytes / 1024.0;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    private double bytesPerSecond(long now) {
        double seconds = (now - startNanos) / 1e9;
        return seconds <= 0 ? 0 : (done - startedAt) / seconds;
    }

    private String rate(long now) {
        double rate = bytesPerSecond(now);
        return rate <= 0 ? "" : size((long) rate) + "/s";
    }

    private String eta(long now) {
        double rate = bytesPerSecond(now);
        if (rate <= 0 || done >= total) {
            return "";
        }
        long seconds = (long) Math.ceil((total - done) / rate);
        return ", about " + (seconds >= 3600 ? seconds / 3600 + " h " + seconds % 3600 / 60 + " min"
                : seconds >= 60 ? seconds / 60 + " min " + seconds % 60 + " s" : seconds + " s") + " left";
    }
}
