package dev.vitserve.core.registry;

/** A request about a model that the registry refuses, with the reason front doors turn into a status. */
public final class ModelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the registry refused. */
    public enum Reason {
        /** No model of that name (404). */
        UNKNOWN_MODEL,
        /** The model is loading, failed or being unloaded, or the server is stopping (503). */
        NOT_READY,
        /** A model of that name is already there (409). */
        DUPLICATE_NAME,
        /** As many models as {@code --max-models} are loaded (409). */
        TOO_MANY_MODELS,
        /** The model is loading, reloading or being unloaded: it cannot be unloaded or reloaded now (409). */
        BUSY,
        /** The default model cannot be unloaded (409). */
        DEFAULT_MODEL,
        /** The settings or the folder cannot be served: not a ViT, a wrong value (400). */
        INVALID_MODEL
    }

    private final Reason reason;

    public ModelException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
