package dev.vitserve.server.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The share of this machine's CPU time the hypervisor gave to other guests ("steal" in
 * {@code /proc/stat}) over a part of the benchmark. On a shared VM a busy host can slow the
 * engine by 1.5x to 3.5x for an hour; a run taken then says nothing about vitserve, and this
 * figure, printed beside each step, says when that happened. It sees only time taken away: a
 * neighbour on the same physical core or memory bus slows this VM without any steal, which is
 * why the benchmark also measures the engine alone right before the steps compared with it.
 */
record StolenTime(long steal, long total) {

    private static final Path PROC_STAT = Path.of("/proc/stat");

    /** Above this share, figures are marked as not comparable with a quiet machine's. */
    static final double NOISY_PERCENT = 5;

    /** The counters now, or {@code null} where the system has no {@code /proc/stat}. */
    static StolenTime now() {
        try {
            return Files.isReadable(PROC_STAT) ? parse(Files.readAllLines(PROC_STAT).get(0)) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Reads the aggregate {@code cpu} line: user nice system idle iowait irq softirq steal ... */
    static StolenTime parse(String cpuLine) {
        String[] fields = cpuLine.trim().split("\\s+");
        if (!fields[0].equals("cpu") || fields.length < 9) {
            throw new IllegalArgumentException("not the aggregate cpu line of /proc/stat: " + cpuLine);
        }
        long total = 0;
        for (int i = 1; i <= 8; i++) {
            total += Long.parseLong(fields[i]);
        }
        return new StolenTime(Long.parseLong(fields[8]), total);
    }

    /** Percent of the CPU time since {@code before} that was stolen, or NaN when either is unknown. */
    static double percentSince(StolenTime before, StolenTime after) {
        if (before == null || after == null || after.total <= before.total) {
            return Double.NaN;
        }
        return 100.0 * (after.steal - before.steal) / (after.total - before.total);
    }

    /** A short label for a step's output: {@code "steal 0.4%"}, flagged when above {@link #NOISY_PERCENT}. */
    static String label(double percent) {
        if (Double.isNaN(percent)) {
            return "steal -";
        }
        return String.format(Locale.ROOT, "steal %.1f%%%s", percent, percent > NOISY_PERCENT ? " (busy host!)" : "");
    }
}
