package dev.vitserve.core.config;

import java.util.Locale;

/**
 * The documented range of every whole-number setting, checked at start and for each model an admin loads: no value
 * within them can make the server spend more than its limits promise (a queue of a billion images, a batch buffer of
 * gigabytes, a batch that waits longer than a request may).
 */
public enum SettingRange {
    MAX_MODELS("max-models", 1, 256, ""),
    THREADS("threads", 1, 256, ""),
    MAX_BATCH("max-batch", 1, 256, ""),
    MAX_BATCH_DELAY_MS("max-batch-delay-ms", 0, 1_000, "ms"),
    MAX_QUEUE("max-queue", 1, 4_096, ""),
    MAX_QUEUE_WAIT_MS("max-queue-wait-ms", 1, 600_000, "ms"),
    MAX_REQUESTS("max-requests", 1, 4_096, ""),
    MAX_FILES("max-files", 1, 256, ""),
    MAX_DECODE_MS("max-decode-ms", 1, 60_000, "ms"),
    URL_CONNECT_TIMEOUT_MS("url-connect-timeout-ms", 1, 120_000, "ms"),
    URL_TIMEOUT_MS("url-timeout-ms", 1, 600_000, "ms"),
    BODY_TIMEOUT_MS("body-timeout-ms", 1, 600_000, "ms"),
    MAX_RECEIVING("max-receiving", 1, 65_536, ""),
    MAX_RECEIVING_PER_CLIENT("max-receiving-per-client", 1, 65_536, ""),
    MAX_URL_FETCHES("max-url-fetches", 1, 4_096, ""),
    MEMORY_BUDGET("memory-budget", 64L << 20, 1L << 40, "bytes"),
    TEXT_CACHE_SIZE("text-cache-size", 1L << 20, 4L << 30, "bytes"),
    MAX_CONNECTIONS("max-connections", 1, 1_000_000, ""),
    MAX_CONNECTIONS_PER_CLIENT("max-connections-per-client", 1, 1_000_000, ""),
    PREPROCESS_THREADS("preprocess-threads", 1, 256, ""),
    WARMUP_INFERENCES("warmup-inferences", 0, 1_000, ""),
    SHUTDOWN_GRACE_MS("shutdown-grace-ms", 0, 3_600_000, "ms"),
    DRAIN_TIMEOUT_MS("drain-timeout-ms", 0, 3_600_000, "ms");

    /** The unit of sizes, which are shown as {@link ByteSizeConverter#format} shows them. */
    private static final String BYTES = "bytes";

    private final String key;
    private final long least;
    private final long most;
    private final String unit;

    SettingRange(String key, long least, long most, String unit) {
        this.key = key;
        this.least = least;
        this.most = most;
        this.unit = unit;
    }

    /** The setting's name as a flag takes it, without the dashes, e.g. {@code max-batch}. */
    public String key() {
        return key;
    }

    /** The smallest value allowed. */
    public long least() {
        return least;
    }

    /** The largest value allowed. */
    public long most() {
        return most;
    }

    /** Whether the value is in range. */
    public boolean allows(long value) {
        return value >= least && value <= most;
    }

    /** The range as docs/operations.md's table ("Settings' ranges") and the messages say it, e.g. {@code 0 to 1 000 ms}. */
    public String describe() {
        if (unit.equals(BYTES)) {
            return ByteSizeConverter.format(least) + " to " + ByteSizeConverter.format(most);
        }
        return format(least) + " to " + format(most) + (unit.isEmpty() ? "" : " " + unit);
    }

    /**
     * Refuses a server flag's value outside the range.
     *
     * @throws ConfigException naming the flag, its range and the value given
     */
    public void checkFlag(Number value) throws ConfigException {
        if (value != null && !allows(value.longValue())) {
            throw new ConfigException("--" + key + " must be " + describe() + ", got " + value);
        }
    }

    private static String format(long value) {
        return String.format(Locale.ROOT, "%,d", value).replace(',', ' ');
    }
}
