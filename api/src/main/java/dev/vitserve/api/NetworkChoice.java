package dev.vitserve.api;

import java.util.Locale;

/**
 * Which network a backend runs when a model folder holds both an export of its engine ({@code model.pt} for DJL,
 * {@code onnx/model.onnx} for ONNX Runtime) and {@code model.safetensors}, from which vitserve builds the network
 * itself (with embeddings, and int8 on ONNX).
 */
public enum NetworkChoice {
    /** The export when there is one, else the network built from the weights. */
    AUTO,
    /** The export only; a folder without one is refused. */
    EXPORT,
    /** The network built from {@code model.safetensors} only, even beside an export. */
    SAFETENSORS;

    /** How operators write it: {@code auto}, {@code export} or {@code safetensors}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Refuses a folder that lacks the network this choice asks for: {@code export} names the engine's export
     * ({@code model.pt}), {@code hasExport} whether the folder has it.
     *
     * @throws BackendException naming the model, the choice and what is missing
     */
    public void check(ModelFiles model, boolean hasExport, String export) throws BackendException {
        String folder = model.directory().toAbsolutePath().toString();
        if (this == EXPORT && !hasExport) {
            throw new BackendException("model " + model.name() + ": --network-from export asks for its export " + export
                    + ", and there is none in " + folder);
        }
        if (this == SAFETENSORS && (model.config().architecture().exported() || model.weights().isEmpty())) {
            throw new BackendException("model " + model.name() + ": --network-from safetensors asks for the network "
                    + "vitserve builds from model.safetensors, and " + (model.weights().isEmpty()
                    ? "there is no model.safetensors in " + folder
                    : model.config().architecture().className() + " is not an architecture vitserve builds"));
        }
    }

    /** Parses {@code auto}, {@code export} or {@code safetensors} (any case). */
    public static NetworkChoice parse(String value) {
        for (NetworkChoice choice : values()) {
            if (choice.id().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return choice;
            }
        }
        throw new IllegalArgumentException("the network must be auto, export or safetensors, got '" + value + "'");
    }
}
