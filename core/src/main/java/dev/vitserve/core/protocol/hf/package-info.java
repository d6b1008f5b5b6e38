/**
 * Hugging Face Inference Endpoints' image-classification and zero-shot contracts ({@code POST /},
 * {@code POST /models/{name}}), mounted by {@link dev.vitserve.core.protocol.hf.HuggingFaceEndpoints}.
 */
package dev.vitserve.core.protocol.hf;
