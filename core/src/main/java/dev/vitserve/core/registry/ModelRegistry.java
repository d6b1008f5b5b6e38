package dev.vitserve.core.registry;

import dev.vitserve.core.config.ModelSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every model the server knows by name, in the order they were added; the first one added is the
 * default model, which the routes without a model name use. Thread-safe.
 */
public final class ModelRegistry {

    private final Map<String, ModelEntry> entries = new LinkedHashMap<>();
    private String defaultName;

    /** The model of that name, if there is one. */
    public synchronized Optional<ModelEntry> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /**
     * The model of that name.
     *
     * @throws ModelException {@link ModelException.Reason#UNKNOWN_MODEL}, naming the models there are
     */
    public synchronized ModelEntry require(String name) {
        ModelEntry entry = entries.get(name);
        if (entry == null) {
            throw new ModelException(ModelException.Reason.UNKNOWN_MODEL, "unknown model '" + shorten(name)
                    + "'; this server serves " + String.join(", ", entries.keySet()));
        }
        return entry;
    }

    /** The model of the routes without a model name: the first one the server started with. */
    public synchronized ModelEntry defaultModel() {
        return entries.get(defaultName);
    }

    /** Every model, in the order they were added. */
    public synchronized List<ModelEntry> list() {
        return new ArrayList<>(entries.values());
    }

    /** Models with a copy loaded and answering. */
    public synchronized int loadedCount() {
        return (int) entries.values().stream().filter(entry -> entry.serving().isPresent()).count();
    }

    /**
     * Adds a model in state {@code loading}.
     *
     * @throws ModelException on a name already taken or with {@code maxModels} models there already
     */
    synchronized ModelEntry add(ModelSettings settings, int maxModels) {
        checkRoom(settings.name(), maxModels);
        ModelEntry entry = new ModelEntry(settings);
        entries.put(settings.name(), entry);
        if (defaultName == null) {
            defaultName = settings.name();
        }
        return entry;
    }

    /** Throws what {@link #add} would throw for that name now. */
    synchronized void checkRoom(String name, int maxModels) {
        if (entries.containsKey(name)) {
            throw new ModelException(ModelException.Reason.DUPLICATE_NAME, "a model named '" + name
                    + "' is already there (state " + entries.get(name).state().id()
                    + "); unload it first, reload it, or choose another name");
        }
        if (entries.size() >= maxModels) {
            throw new ModelException(ModelException.Reason.TOO_MANY_MODELS, "this server holds at most " + maxModels
                    + " models (--max-models) and has " + entries.size() + ": " + String.join(", ", entries.keySet())
                    + "; unload one first");
        }
    }

    synchronized void remove(ModelEntry entry) {
        entries.remove(entry.name(), entry);
    }

    /** A name from a request, cut short enough to repeat in an error. */
    private static String shorten(String name) {
        String printable = name.replaceAll("\\p{Cntrl}", "?");
        return printable.length() > 100 ? printable.substring(0, 100) + "..." : printable;
    }
}
