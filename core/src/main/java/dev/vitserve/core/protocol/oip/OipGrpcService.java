package dev.vitserve.core.protocol.oip;

import com.google.protobuf.Message;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ApiKeyCheck;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ReceivingLimiter;
import dev.vitserve.core.http.RequestLimiter;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelMetadataRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelMetadataResponse;
import dev.vitserve.core.protocol.oip.grpc.ModelReadyRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelReadyResponse;
import dev.vitserve.core.protocol.oip.grpc.RepositoryIndexRequest;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelLoadRequest;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelUnloadRequest;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol over gRPC, {@code inference.GRPCInferenceService}, on Vert.x's gRPC
 * server: the same models, pipeline, limits and API key as the REST routes, errors as gRPC
 * statuses (INVALID_ARGUMENT bad input, NOT_FOUND unknown model, RESOURCE_EXHAUSTED overload,
 * UNAVAILABLE not ready, UNAUTHENTICATED no key). The repository calls (index, load, unload) are
 * the management API's: they need {@code --admin-api-key}, and are PERMISSION_DENIED without one.
 */
public final class OipGrpcService {

    /** Who may call a method, and whether it takes a request slot. */
    private enum Access {
        /** The API key, when one is set. */
        API,
        /** The API key and a slot of the admission limit. */
        LIMITED,
        /** The admin key, which must be set. */
        ADMIN
    }

    private static final Logger LOG = LoggerFactory.getLogger(OipGrpcService.class);
    private static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");

    private final ModelLookup models;
    private final OipInference inference;
    private final String version;
    private final RequestLimiter limiter;
    private final ReceivingLimiter receiving;
    private final ApiKeyCheck apiKey;
    private final GrpcRepositoryCalls management;
    private final long maxMessageSize;

    /**
     * @param maxMessageSize the largest request message ({@code --max-body-size})
     * @param apiKey the key requests must carry as {@code authorization: Bearer <key>} metadata, or null
     */
    public OipGrpcService(ModelLookup models, OipInference inference, String version, RequestLimiter limiter,
                          ReceivingLimiter receiving, long maxMessageSize, ApiKeyCheck apiKey,
                          GrpcRepositoryCalls management) {
        this.maxMessageSize = maxMessageSize;
        this.models = models;
        this.inference = inference;
        this.version = version;
        this.limiter = limiter;
        this.receiving = receiving;
        this.apiKey = apiKey;
        this.management = management;
    }

    /** A gRPC server with every method, to use as an HTTP/2 server's request handler. */
    public GrpcServer server(Vertx vertx) {
        GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(maxMessageSize));
        unary(server, "ServerLive", ServerLiveRequest.newBuilder(), Access.API,
                request -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
        unary(server, "ServerReady", ServerReadyRequest.newBuilder(), Access.API,
                request -> Future.succeededFuture(ServerReadyResponse.newBuilder().setReady(models.serverReady()).build()));
        unary(server, "ServerMetadata", ServerMetadataRequest.newBuilder(), Access.LIMITED,
                request -> Future.succeededFuture(ServerMetadataResponse.newBuilder().setName("vitserve")
                        .setVersion(version).addAllExtensions(extensions()).build()));
        unary(server, "ModelReady", ModelReadyRequest.newBuilder(), Access.LIMITED, this::modelReady);
        unary(server, "ModelMetadata", ModelMetadataRequest.newBuilder(), Access.LIMITED, this::modelMetadata);
        unary(server, "ModelInfer", ModelInferRequest.newBuilder(), Access.LIMITED, this::infer);
        unary(server, "RepositoryIndex", RepositoryIndexRequest.newBuilder(), Access.ADMIN, management::index);
        unary(server, "RepositoryModelLoad", RepositoryModelLoadRequest.newBuilder(), Access.ADMIN, management::load);
        unary(server, "RepositoryModelUnload", RepositoryModelUnloadRequest.newBuilder(), Access.ADMIN, management::unload);
        return server;
    }

    /** REST's extensions, and the model repository when the admin key lets it be used here. */
    private List<String> extensions() {
        List<String> extensions = new ArrayList<>(OipRestEndpoints.EXTENSIONS);
        if (management.adminKey() != null) {
            extensions.add("model_repository");
        }
        return extensions;
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
     * Registers a unary method. The key its access needs is checked before the request message is read; the
     * message then holds a place of the {@link ReceivingLimiter} until it has arrived (within
     * {@code --body-timeout-ms}, else DEADLINE_EXCEEDED), and only then does a {@code LIMITED} call take a slot of
     * the admission limit, so slow senders hold no slot the others need. Each call is answered once.
     */
    private <Req extends Message> void unary(GrpcServer server, String method, Message.Builder prototype,
                                             Access access, Function<Req, Future<? extends Message>> handler) {
        ServiceMethod<Req, Message> serviceMethod = ServiceMethod.server(SERVICE, method, GrpcMessageEncoder.encoder(),
                GrpcMessageDecoder.decoder(prototype));
        ApiKeyCheck key = access == Access.ADMIN ? management.adminKey() : apiKey;
        String keyName = access == Access.ADMIN ? "admin API key" : "API key";
        server.callHandler(serviceMethod, request -> {
            if (access == Access.ADMIN && key == null) {
                fail(request, GrpcStatus.PERMISSION_DENIED, method + " manages models and is off on this server: start "
                        + "it with --admin-api-key KEY and send the metadata 'authorization: Bearer <KEY>'");
                return;
            }
            if (key != null && !key.accepts(request.headers().get("authorization"))) {
                fail(request, GrpcStatus.UNAUTHENTICATED, request.headers().get("authorization") == null
                        ? method + " needs the " + keyName + ": send the metadata 'authorization: Bearer <key>'"
                        : "the " + keyName + " is wrong");
                return;
            }
            Call<Req> call = new Call<>(request, access == Access.LIMITED, handler);
            ReceivingLimiter.Reservation place = receiving.reserve(maxMessageSize, call::timedOut);
            if (place == null) {
                fail(request, GrpcStatus.RESOURCE_EXHAUSTED, "the server is receiving as many requests as it holds "
                        + "room for; retry in a second");
                return;
            }
            call.start(place);
        });
    }

    /** One call: its message arriving within the deadline, its admission, its work and its one answer. */
    private final class Call<Req extends Message> {
        private final GrpcServerRequest<Req, Message> request;
        private final boolean limited;
        private final Function<Req, Future<? extends Message>> handler;
        private final AtomicBoolean answered = new AtomicBoolean();
        private boolean admitted;

        Call(GrpcServerRequest<Req, Message> request, boolean limited, Function<Req, Future<? extends Message>> handler) {
            this.request = request;
            this.limited = limited;
            this.handler = handler;
        }

        /** Reads the message, which holds {@code place} among those arriving until it is in. */
        void start(ReceivingLimiter.Reservation place) {
            // the client cancelled or reset the call: nobody to answer, and its message will not arrive
            request.errorHandler(error -> {
                answered.set(true);
                place.release();
            });
            request.last().compose(message -> {
                place.release();
                if (answered.get()) {
                    return Future.succeededFuture();
                }
                ApiException refused = limited ? limiter.admit() : null;
                if (refused != null) {
                    return Future.failedFuture(refused);
                }
                admitted = limited;
                try {
                    return handler.apply(message);
                } catch (ApiException e) {
                    return Future.failedFuture(e);
                }
            }).onComplete(result -> {
                place.release();
                if (admitted) {
                    limiter.release();
                }
                if (result.succeeded()) {
                    if (answered.compareAndSet(false, true)) {
                        request.response().end(result.result());
                    }
                } else if (!answered.get()) {
                    answer(result.cause());
                }
            });
        }

        /** The message did not arrive within {@code --body-timeout-ms}. */
        void timedOut() {
            answer(GrpcStatus.DEADLINE_EXCEEDED, "the request message did not arrive within "
                    + receiving.timeout().toMillis() + " ms");
        }

        private void answer(Throwable failure) {
            if (answered.compareAndSet(false, true)) {
                try {
                    fail(request, failure);
                } catch (IllegalStateException closed) {
                    // the stream closed under the answer: the client has gone
                }
            }
        }

        private void answer(GrpcStatus status, String message) {
            if (answered.compareAndSet(false, true)) {
                fail(request, status, message);
            }
        }
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
            // the management's refusals: a model of that name, too many models, busy, the default model
            case 409 -> switch (error.code()) {
                case "model_exists" -> GrpcStatus.ALREADY_EXISTS;
                case "too_many_models" -> GrpcStatus.RESOURCE_EXHAUSTED;
                default -> GrpcStatus.FAILED_PRECONDITION;
            };
            case 503 -> "overloaded".equals(error.code()) ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE;
            default -> error.status() >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.INVALID_ARGUMENT;
        };
    }

    private static void fail(GrpcServerRequest<?, Message> request, GrpcStatus status, String message) {
        request.response().status(status).statusMessage(message).end();
    }
}
