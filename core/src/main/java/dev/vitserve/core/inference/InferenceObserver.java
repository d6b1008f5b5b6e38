package dev.vitserve.core.inference;

/** Told where each image's time goes and when the queue refuses one, for metrics. */
public interface InferenceObserver {

    /** Observes nothing. */
    InferenceObserver NONE = new InferenceObserver() {
    };

    /** One image was decoded and preprocessed. */
    default void imagePrepared(double decodeMs, double preprocessMs) {
    }

    /** One image waited that long for the engine. */
    default void imageQueued(double queueMs) {
    }

    /** A batch of {@code size} images took {@code nanos} in the engine. */
    default void batchRan(int size, long nanos) {
    }

    /**
     * The scheduler is done with an image: {@code answered} by the engine, or not (refused by a full queue, waited too
     * long, or the engine failed), {@code nanos} after it was queued (0 when refused at once).
     */
    default void imageDone(boolean answered, long nanos) {
    }

    /** An image was refused because the queue was full. */
    default void refused() {
    }

    /** A text request found {@code hits} of its texts in the model's text embedding cache and missed {@code misses}. */
    default void textCacheLooked(int hits, int misses) {
    }

    /** The text tower ran once over {@code size} texts, taking {@code nanos}. */
    default void textRan(int size, long nanos) {
    }

    /** The text embedding cache holds that many bytes now. */
    default void textCacheBytes(long bytes) {
    }
}
