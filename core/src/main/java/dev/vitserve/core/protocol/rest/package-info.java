/**
 * vitserve's own REST API ({@code /health/...}, {@code /v1/...}) and the original service's
 * {@code /predict_image_class}: {@link dev.vitserve.core.protocol.rest.RestDoor} mounts one handler per task
 * (classify, embed, zero-shot, text embedding) and the model information routes.
 */
package dev.vitserve.core.protocol.rest;
