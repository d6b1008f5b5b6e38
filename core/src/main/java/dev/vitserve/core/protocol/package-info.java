/**
 * What every protocol door shares: finding the model a request names ({@link dev.vitserve.core.protocol.ModelLookup})
 * and a zero-shot request's labels and scoring. Each door is a subpackage with one class that mounts its routes
 * through {@link dev.vitserve.core.http.DoorRoutes}: {@code rest} (vitserve's own API), {@code hf} (Hugging Face
 * Inference Endpoints), {@code oip} (Open Inference Protocol v2, REST and gRPC). A door may use the transport of
 * {@code dev.vitserve.core.http}; the transport never uses a door.
 */
package dev.vitserve.core.protocol;
