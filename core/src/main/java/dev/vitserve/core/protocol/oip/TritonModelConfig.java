package dev.vitserve.core.protocol.oip;

import dev.vitserve.api.Device;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.protocol.oip.grpc.DataType;
import dev.vitserve.core.protocol.oip.grpc.ModelConfig;
import dev.vitserve.core.protocol.oip.grpc.ModelDynamicBatching;
import dev.vitserve.core.protocol.oip.grpc.ModelInput;
import dev.vitserve.core.protocol.oip.grpc.ModelInstanceGroup;
import dev.vitserve.core.protocol.oip.grpc.ModelOutput;
import dev.vitserve.core.protocol.oip.grpc.ModelParameter;
import dev.vitserve.core.protocol.oip.grpc.ModelQueuePolicy;
import dev.vitserve.core.registry.ServingModel;
import java.util.List;

/**
 * A served model's configuration in Triton's {@code model_config.proto} schema, the same message for gRPC's
 * ModelConfig and REST's {@code /v2/models/{m}/config}: the inputs and outputs of its {@link ModelMetadata} without
 * the batch dimension, {@code max_batch_size} the scheduler's max batch, {@code dynamic_batching} its delay, queue
 * and wait, every input optional (a request sends the one it has), one instance group (vitserve runs one engine instance per model) on the device the engine runs on, and
 * vitserve's own settings as parameters.
 */
final class TritonModelConfig {

    private TritonModelConfig() {
    }

    static ModelConfig of(String name, ServingModel serving) {
        ModelMetadata metadata = ModelMetadata.of(name, serving);
        InferenceScheduler scheduler = serving.scheduler();
        Device device = serving.backend().device();
        ModelConfig.Builder config = ModelConfig.newBuilder().setName(name).setPlatform(metadata.platform())
                .setBackend(backend(serving.backendId())).setMaxBatchSize(scheduler.maxBatch())
                .setDynamicBatching(ModelDynamicBatching.newBuilder()
                        .setMaxQueueDelayMicroseconds(scheduler.maxBatchDelayMicros())
                        .setDefaultQueuePolicy(ModelQueuePolicy.newBuilder()
                                .setTimeoutAction(ModelQueuePolicy.TimeoutAction.REJECT)
                                .setDefaultTimeoutMicroseconds(scheduler.maxWaitMicros())
                                .setMaxQueueSize(scheduler.maxQueue())))
                .addInstanceGroup(instances(name, device));
        for (ModelMetadata.Tensor input : metadata.inputs()) {
            config.addInput(ModelInput.newBuilder().setName(input.name()).setDataType(dataType(input.datatype()))
                    .setFormat(input.shape().size() == 4 ? ModelInput.Format.FORMAT_NCHW : ModelInput.Format.FORMAT_NONE)
                    .addAllDims(dims(input.shape())).setOptional(true));
        }
        for (ModelMetadata.Tensor output : metadata.outputs()) {
            config.addOutput(ModelOutput.newBuilder().setName(output.name()).setDataType(dataType(output.datatype()))
                    .addAllDims(dims(output.shape())));
        }
        parameter(config, "vitserve_backend", serving.backendId());
        parameter(config, "engine", serving.backend().engine());
        parameter(config, "threads", String.valueOf(serving.settings().threads()));
        parameter(config, "device", device.toString());
        parameter(config, "task", serving.task().toString());
        parameter(config, "architecture", metadata.architecture());
        return config.build();
    }

    private static ModelInstanceGroup instances(String name, Device device) {
        ModelInstanceGroup.Builder group = ModelInstanceGroup.newBuilder().setName(name).setCount(1)
                .setKind(device.isGpu() ? ModelInstanceGroup.Kind.KIND_GPU : ModelInstanceGroup.Kind.KIND_CPU);
        if (device.isGpu()) {
            group.addGpus(device.gpuIndex());
        }
        return group.build();
    }

    private static void parameter(ModelConfig.Builder config, String key, String value) {
        if (value != null) {
            config.putParameters(key, ModelParameter.newBuilder().setStringValue(value).build());
        }
    }

    /** Triton's backend names for the engines vitserve runs; a plug-in backend is named by its id. */
    static String backend(String backendId) {
        return switch (backendId) {
            case "onnx" -> "onnxruntime";
            case "djl" -> "pytorch";
            default -> backendId;
        };
    }

    /** A tensor's dims without the batch dimension; an element that is one value (an encoded image) is {@code [1]}. */
    private static List<Long> dims(List<Long> shape) {
        List<Long> dims = shape.subList(1, shape.size());
        return dims.isEmpty() ? List.of(1L) : dims;
    }

    private static DataType dataType(String datatype) {
        return datatype.equals("BYTES") ? DataType.TYPE_STRING : DataType.valueOf("TYPE_" + datatype);
    }
}
