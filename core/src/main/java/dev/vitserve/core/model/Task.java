package dev.vitserve.core.model;

/** What a model does, as Hugging Face's pipelines name it; each route asks the model for the task it serves. */
public enum Task {
    /** A classifier with its own labels ({@code ViTForImageClassification}): classify. */
    IMAGE_CLASSIFICATION("image-classification"),
    /** An image and a text tower in one space ({@code CLIPModel}): labels given in the request, embeddings of both. */
    ZERO_SHOT_IMAGE_CLASSIFICATION("zero-shot-image-classification");

    private final String id;

    Task(String id) {
        this.id = id;
    }

    /** The pipeline's name, e.g. {@code zero-shot-image-classification}. */
    public String id() {
        return id;
    }
}
