package dev.vitserve.core.protocol.oip;

import com.google.protobuf.Message;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ApiKeyCheck;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.RequestLimiter;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelMetadataRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelMetadataResponse;
import dev.vitserve.core.protocol.oip.grpc.ModelReadyRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelReadyResponse;
import dev.vitserve.core.protocol.oip.grpc.ServerLiveRequest;
import dev.vitserve.core.protocol.oip.grpc.ServerLiveResponse;
import dev.vitserve.core.protocol.oip.grpc.ServerMetadataRequest;
import dev.vitserve.core.protocol.oip.grpc.ServerMetadataResponse;
import dev.vitserve.core.protocol.oip.grpc.ServerReadyRequest;
import dev.vitserve.core.protocol.oip.grpc.ServerReadyResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol over gRPC, {@code inference.GRPCInferenceService}, on Vert.x's gRPC
 * server: the same models, pipeline, limits and API key as the REST routes, errors as gRPC
 * statuses (INVALID_ARGUMENT bad input, NOT_FOUND unknown model, RESOURCE_EXHAUSTED overload,
 * UNAVAILABLE not ready, UNAUTHENTICATED no key).
 */
public final class OipGrpcService {

    private static final Logger LOG = LoggerFactory.getLogger(OipGrpcService.class);
    private static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");

    private final ModelLookup models;
    private final OipInference inference;
    private final String version;
    private final RequestLimiter limiter;
    private final ApiKeyCheck apiKey;

    /** @param apiKey the key requests must carry as {@code authorization: Bearer <key>} metadata, or null */
    public OipGrpcService(ModelLookup models, OipInference inference, String version, RequestLimiter limiter,
                          ApiKeyCheck apiKey) {
        this.models = models;
        this.inference = inference;
        this.version = version;
        this.limiter = limiter;
        this.apiKey = apiKey;
    }

    /** A gRPC server with every method, to use as an HTTP/2 server's request handler. */
    public GrpcServer server(Vertx vertx, long maxMessageSize) {
        GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(maxMessageSize));
        unary(server, "ServerLive", ServerLiveRequest.newBuilder(), false,
                request -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
        unary(server, "ServerReady", ServerReadyRequest.newBuilder(), false,
                request -> Future.succeededFuture(ServerReadyResponse.newBuilder().setReady(models.serverReady()).build()));
        unary(server, "ServerMetadata", ServerMetadataRequest.newBuilder(), true,
                request -> Future.succeededFuture(ServerMetadataResponse.newBuilder().setName("vitserve")
                        .setVersion(version).addAllExtensions(OipRestEndpoints.EXTENSIONS).build()));
        unary(server, "ModelReady", ModelReadyRequest.newBuilder(), true, this::modelReady);
        unary(server, "ModelMetadata", ModelMetadataRequest.newBuilder(), true, this::modelMetadata);
        unary(server, "ModelInfer", ModelInferRequest.newBuilder(), true, this::infer);
        return server;
    }

    private Future<ModelReadyResponse> modelReady(ModelReadyRequest request) {
        checkVersion(request.getName(), request.getVersion());
        return Future.succeededFuture(ModelReadyResponse.newBuilder().setReady(models.ready(request.getName())).build());
    }

    private Future<ModelMetadataResponse> modelMetadata(ModelMetadataRequest request) {
        checkVersion(request.getName(), request.getVersion());
        ModelMetadata metadata = ModelMetadata.of(request.getName(), models.require(request.getName()).answering());
        ModelMetadataResponse.Builder answer = ModelMetadataResponse.newBuilder().setName(metadata.name())
                .addAllVersions(metadata.versions()).setPlatform(metadata.platform());
        metadata.inputs().forEach(tensor -> answer.addInputs(tensor(tensor)));
        metadata.outputs().forEach(tensor -> answer.addOutputs(tensor(tensor)));
        return Future.succeededFuture(answer.build());
    }

    private static ModelMetadataResponse.TensorMetadata tensor(ModelMetadata.Tensor tensor) {
        return ModelMetadataResponse.TensorMetadata.newBuilder().setName(tensor.name()).setDatatype(tensor.datatype())
                .addAllShape(tensor.shape()).build();
    }

    private Future<Message> infer(ModelInferRequest request) {
        checkVersion(request.getModelName(), request.getModelVersion());
        InferenceRequest read = GrpcInferenceCodec.read(request);
        return models.require(request.getModelName())
                .use(serving -> inference.infer(request.getModelName(), serving, read).map(GrpcInferenceCodec::write));
    }

    /** An unknown model is NOT_FOUND before its version is looked at; a version other than "1" is NOT_FOUND too. */
    private void checkVersion(String model, String requested) {
        if (!models.knows(model)) {
            models.require(model);
        }
        if (!requested.isEmpty() && !requested.equals(ModelMetadata.VERSION)) {
            throw new ApiException(404, "unknown_version", "model '" + model + "' has no version '" + requested
                    + "'; vitserve serves version " + ModelMetadata.VERSION);
        }
    }

    /**
     * Registers a unary method: the API key and, for {@code limited} methods, the admission limit
     * are checked before the request message is read.
     */
    private <Req extends Message> void unary(GrpcServer server, String method, Message.Builder prototype,
                                             boolean limited, Function<Req, Future<? extends Message>> handler) {
        ServiceMethod<Req, Message> serviceMethod = ServiceMethod.server(SERVICE, method, GrpcMessageEncoder.encoder(),
                GrpcMessageDecoder.decoder(prototype));
        server.callHandler(serviceMethod, request -> {
            if (apiKey != null && !apiKey.accepts(request.headers().get("authorization"))) {
                fail(request, GrpcStatus.UNAUTHENTICATED, request.headers().get("authorization") == null
                        ? "this server needs an API key: send the metadata 'authorization: Bearer <key>'"
                        : "the API key is wrong");
                return;
            }
            ApiException refused = limited ? limiter.admit() : null;
            if (refused != null) {
                fail(request, refused);
                return;
            }
            request.last().compose(message -> {
                try {
                    return handler.apply(message);
                } catch (ApiException e) {
                    return Future.failedFuture(e);
                }
            }).onComplete(result -> {
                if (limited) {
                    limiter.release();
                }
                if (result.succeeded()) {
                    request.response().end(result.result());
                } else {
                    fail(request, result.cause());
                }
            });
        });
    }

    private static void fail(GrpcServerRequest<?, Message> request, Throwable failure) {
        if (failure instanceof CodecException) {
            fail(request, GrpcStatus.INVALID_ARGUMENT, "the message is not a valid " + request.methodName()
                    + " request of inference.GRPCInferenceService"
                    + (failure.getCause() != null ? ": " + failure.getCause().getMessage() : ""));
            return;
        }
        ApiException known = ErrorResponses.fromFailure(failure);
        if (known == null) {
            LOG.error("gRPC {} failed", request.methodName(), failure);
            fail(request, GrpcStatus.INTERNAL, "the server failed to answer; the failure is in its log");
            return;
        }
        fail(request, status(known), known.getMessage());
    }

    /** The gRPC status of an API error, as Triton and KServe map theirs. */
    static GrpcStatus status(ApiException error) {
        return switch (error.status()) {
            case 401 -> GrpcStatus.UNAUTHENTICATED;
            case 404 -> GrpcStatus.NOT_FOUND;
            case 503 -> "overloaded".equals(error.code()) ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE;
            default -> error.status() >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.INVALID_ARGUMENT;
        };
    }

    private static void fail(GrpcServerRequest<?, Message> request, GrpcStatus status, String message) {
        request.response().status(status).statusMessage(message).end();
    }
}
