/**
 * The Open Inference Protocol v2: over REST on the API listener
 * ({@link dev.vitserve.core.protocol.oip.OipRestEndpoints}), over gRPC on its own listener
 * ({@link dev.vitserve.core.protocol.oip.OipGrpcService}), and the model repository extension on the management
 * listener ({@link dev.vitserve.core.protocol.oip.OipRepositoryHandlers}); the codecs turn both wire forms into
 * the same {@link dev.vitserve.core.protocol.oip.InferenceRequest} that {@link dev.vitserve.core.protocol.oip.OipInference} runs.
 */
package dev.vitserve.core.protocol.oip;
