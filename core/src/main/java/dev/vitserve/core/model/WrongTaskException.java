package dev.vitserve.core.model;

/** A request asks a model for what its task does not do (labels of a zero-shot model, texts of a classifier). */
public final class WrongTaskException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public WrongTaskException(String message) {
        super(message, null, false, false);
    }

    /** The refusal of a classifier's request to a zero-shot model. */
    public static WrongTaskException noOwnLabels() {
        return new WrongTaskException("the model is a zero-shot image classifier (CLIP): it has no labels of its own;"
                + " POST /v1/models/{name}/zero-shot with candidate_labels, or /embed and /embed-text for embeddings");
    }
}
