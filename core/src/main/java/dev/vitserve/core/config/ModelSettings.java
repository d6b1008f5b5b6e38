package dev.vitserve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One model to serve and the settings that are its own: where it comes from, its engine and
 * its queue. The server's top-level settings are the defaults of every model.
 *
 * @param name how requests name it ({@code /v1/models/{name}/classify}); may contain {@code /}
 * @param model a Hub id or a model folder
 * @param revision the branch, tag or commit of a Hub model
 * @param backend the engine's id, e.g. {@code onnx}
 * @param device the device asked for
 * @param threads intra-op threads of its engine
 * @param maxBatch most images per engine run, or null for the device's default
 * @param maxBatchDelayMs how long a batch may wait to fill, or null for the device's default
 * @param maxQueue images that may wait for its engine
 * @param precision the arithmetic its engine runs in ({@code fp32}, {@code int8}, {@code bf16}, {@code fp16}, or
 *     {@code auto} for the fastest that passes its check at load)
 * @param folderLookup whether {@code model} may name a local folder (false: a Hub id only, as for a management-API
 *     load whose name is not a folder within its roots)
 */
public record ModelSettings(String name, String model, String revision, String backend, DeviceRequest device,
                            int threads, Integer maxBatch, Integer maxBatchDelayMs, int maxQueue, Precision precision,
                            boolean folderLookup) {

    /** The revision of a model not given one: the Hub repository's main branch. */
    public static final String DEFAULT_REVISION = "main";

    /** The keys a {@code models:} entry or an admin load may set. */
    public static final List<String> KEYS = List.of("name", "model", "revision", "backend", "device", "threads",
            "max-batch", "max-batch-delay-ms", "max-queue", "precision");

    /** Settings whose model may be a local folder or a Hub id. */
    public ModelSettings(String name, String model, String revision, String backend, DeviceRequest device, int threads,
                         Integer maxBatch, Integer maxBatchDelayMs, int maxQueue, Precision precision) {
        this(name, model, revision, backend, device, threads, maxBatch, maxBatchDelayMs, maxQueue, precision, true);
    }

    public ModelSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(revision, "revision");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
    }

    /**
     * Refuses a revision for a local folder: a branch, tag or commit is a Hub repository's, and a folder has
     * only what is in it (the default revision passes, as every model has one).
     */
    public void checkRevision() throws ConfigException {
        if (revision.equals(DEFAULT_REVISION) || !folderLookup) {
            return;
        }
        boolean folder;
        try {
            folder = java.nio.file.Files.isDirectory(java.nio.file.Path.of(model));
        } catch (RuntimeException e) {
            folder = false;
        }
        if (folder) {
            throw new ConfigException("model '" + name + "' is the local folder " + model + ", which has no revision '"
                    + revision + "': revisions apply to Hugging Face Hub ids only; drop 'revision' (or --revision) "
                    + "for this model");
        }
    }

    /** Largest batch; {@code gpu} says whether the engine runs on a GPU, which changes the default. */
    public int maxBatch(boolean gpu) {
        return maxBatch != null ? maxBatch : gpu ? 8 : 2;
    }

    /** Longest wait for a batch to fill, in milliseconds. */
    public int maxBatchDelayMs(boolean gpu) {
        return maxBatchDelayMs != null ? maxBatchDelayMs : gpu ? 5 : 0;
    }

    /**
     * These settings with those of a JSON or YAML object ({@code name}, {@code model} and the
     * per-model keys, spelled {@code max-batch}, {@code max_batch} or {@code maxBatch}); when it gives
     * a {@code model} but no {@code name}, the name is the model's default name.
     *
     * @throws ConfigException naming the key when one is unknown or its value is wrong
     */
    public ModelSettings with(JsonNode entry) throws ConfigException {
        if (entry == null || !entry.isObject()) {
            throw new ConfigException("a model must be given as an object with the keys " + String.join(", ", KEYS));
        }
        String newName = null;
        String newModel = model;
        String newRevision = revision;
        String newBackend = backend;
        DeviceRequest newDevice = device;
        int newThreads = threads;
        Integer newMaxBatch = maxBatch;
        Integer newDelay = maxBatchDelayMs;
        int newQueue = maxQueue;
        Precision newPrecision = precision;
        for (Iterator<Map.Entry<String, JsonNode>> it = entry.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = ConfigLoader.canonicalKey(field.getKey());
            JsonNode value = field.getValue();
            switch (key) {
                case "name" -> newName = text(key, value);
                case "model" -> newModel = text(key, value);
                case "revision" -> newRevision = text(key, value);
                case "backend" -> newBackend = text(key, value);
                case "device" -> newDevice = device(value);
                case "threads" -> newThreads = whole(SettingRange.THREADS, value);
                case "max-batch" -> newMaxBatch = whole(SettingRange.MAX_BATCH, value);
                case "max-batch-delay-ms" -> newDelay = whole(SettingRange.MAX_BATCH_DELAY_MS, value);
                case "max-queue" -> newQueue = whole(SettingRange.MAX_QUEUE, value);
                case "precision" -> newPrecision = precision(value);
                default -> throw new ConfigException("unknown model setting '" + field.getKey() + "'; known: "
                        + String.join(", ", KEYS));
            }
        }
        if (newName == null) {
            newName = entry.has("model") ? ModelSpec.defaultName(newModel) : name;
        }
        checkName(newName);
        return new ModelSettings(newName, newModel, newRevision, newBackend, newDevice, newThreads, newMaxBatch,
                newDelay, newQueue, newPrecision, !Objects.equals(newModel, model) || folderLookup);
    }

    /** The same settings under another name and source (for {@code --model NAME=ID}). */
    public ModelSettings named(String newName, String newModel) {
        return new ModelSettings(newName, newModel, revision, backend, device, threads, maxBatch, maxBatchDelayMs,
                maxQueue, precision);
    }

    /** The same settings with the model given as a folder's path or a Hub id, and whether it may be a folder. */
    public ModelSettings from(String newModel, boolean mayBeFolder) {
        return new ModelSettings(name, newModel, revision, backend, device, threads, maxBatch, maxBatchDelayMs, maxQueue,
                precision, mayBeFolder);
    }

    /** Refuses names a route could not carry: empty, too long, control characters, or {@code ..} segments. */
    static void checkName(String name) throws ConfigException {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new ConfigException("a model name must have 1 to 200 characters, got '" + name + "'");
        }
        if (!name.matches("[A-Za-z0-9._\\-/@+=:]+") || name.startsWith("/") || name.endsWith("/")
                || name.contains("//") || List.of(name.split("/")).contains("..")) {
            throw new ConfigException("model name '" + name + "' may use letters, digits and . _ - @ + = : and "
                    + "/ between parts (as in google/vit-base-patch16-224)");
        }
    }

    private static String text(String key, JsonNode value) throws ConfigException {
        if (value == null || !value.isValueNode() || value.isNull() || value.asText().isBlank()) {
            throw new ConfigException("model setting '" + key + "' must be a non-empty text");
        }
        return value.asText();
    }

    private static int whole(SettingRange range, JsonNode value) throws ConfigException {
        if (value != null && (value.isIntegralNumber() || value.isTextual() && value.asText().trim().matches("\\d{1,9}"))) {
            long number = value.isIntegralNumber() ? (value.canConvertToLong() ? value.asLong() : Long.MAX_VALUE)
                    : Long.parseLong(value.asText().trim());
            if (range.allows(number)) {
                return (int) number;
            }
        }
        String shown = value == null ? "nothing" : value.toString();
        throw new ConfigException("model setting '" + range.key() + "' must be a whole number from " + range.describe()
                + ", got " + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown));
    }

    private static Precision precision(JsonNode value) throws ConfigException {
        try {
            return Precision.parse(text("precision", value));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("model setting 'precision': " + e.getMessage());
        }
    }

    private static DeviceRequest device(JsonNode value) throws ConfigException {
        try {
            return DeviceRequest.parse(text("device", value));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("model setting 'device': " + e.getMessage());
        }
    }
}
