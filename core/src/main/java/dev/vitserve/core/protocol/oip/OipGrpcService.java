package dev.vitserve.core.protocol.oip;

import com.google.protobuf.Message;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ApiKeyCheck;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.http.ReceivingLimiter;
import dev.vitserve.core.http.RequestLimiter;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.oip.grpc.ModelConfigRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelConfigResponse;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelStatisticsRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelStatisticsResponse;
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
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.nio.charset.StandardCharsets;
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
    /** The most bytes of a grpc-message sent. */
    static final int MAX_STATUS_MESSAGE = 1024;
    /** The most characters of a name from the request quoted in a message. */
    static final int MAX_NAME = 128;
    /** The call the gRPC server is being handed on this thread, as its handler runs at once. */
    private static final ThreadLocal<Arrival> ARRIVING = new ThreadLocal<>();

    private final ModelLookup models;
    private final OipInference inference;
    private final TritonStatistics statistics;
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
    public OipGrpcService(ModelLookup models, OipInference inference, TritonStatistics statistics, String version,
                          RequestLimiter limiter, ReceivingLimiter receiving, long maxMessageSize, ApiKeyCheck apiKey,
                          GrpcRepositoryCalls management) {
        this.maxMessageSize = maxMessageSize;
        this.models = models;
        this.inference = inference;
        this.statistics = statistics;
        this.version = version;
        this.limiter = limiter;
        this.receiving = receiving;
        this.apiKey = apiKey;
        this.management = management;
    }

    /**
     * The gRPC listener's request handler: a gRPC server with every method, each call's arriving bytes counted
     * (see {@link Arrival}) before vert.x's gRPC server reads them.
     */
    public Handler<HttpServerRequest> handler(Vertx vertx) {
        GrpcServer server = server(vertx);
        return request -> {
            Arrival arrival = new Arrival();
            ARRIVING.set(arrival);
            try {
                server.handle(new CountedRequest((HttpServerRequestInternal) request, arrival));
            } finally {
                ARRIVING.remove();
            }
        };
    }

    /** A gRPC server with every method. */
    GrpcServer server(Vertx vertx) {
        GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(maxMessageSize));
        unary(vertx, server, "ServerLive", ServerLiveRequest.getDefaultInstance(), Access.API,
                request -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
        unary(vertx, server, "ServerReady", ServerReadyRequest.getDefaultInstance(), Access.API,
                request -> Future.succeededFuture(ServerReadyResponse.newBuilder().setReady(models.serverReady()).build()));
        unary(vertx, server, "ServerMetadata", ServerMetadataRequest.getDefaultInstance(), Access.LIMITED,
                request -> Future.succeededFuture(ServerMetadataResponse.newBuilder().setName("vitserve")
                        .setVersion(version).addAllExtensions(extensions()).build()));
        unary(vertx, server, "ModelReady", ModelReadyRequest.getDefaultInstance(), Access.LIMITED, this::modelReady);
        unary(vertx, server, "ModelMetadata", ModelMetadataRequest.getDefaultInstance(), Access.LIMITED,
                this::modelMetadata);
        unary(vertx, server, "ModelInfer", ModelInferRequest.getDefaultInstance(), Access.LIMITED, Inference::of,
                this::infer);
        unary(vertx, server, "ModelConfig", ModelConfigRequest.getDefaultInstance(), Access.LIMITED, this::modelConfig);
        unary(vertx, server, "ModelStatistics", ModelStatisticsRequest.getDefaultInstance(), Access.LIMITED,
                this::modelStatistics);
        streamInfer(vertx, server);
        unary(vertx, server, "RepositoryIndex", RepositoryIndexRequest.getDefaultInstance(), Access.ADMIN,
                management::index);
        unary(vertx, server, "RepositoryModelLoad", RepositoryModelLoadRequest.getDefaultInstance(), Access.ADMIN,
                management::load);
        unary(vertx, server, "RepositoryModelUnload", RepositoryModelUnloadRequest.getDefaultInstance(), Access.ADMIN,
                management::unload);
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

    private Future<ModelConfigResponse> modelConfig(ModelConfigRequest request) {
        checkVersion(request.getName(), request.getVersion());
        return Future.succeededFuture(ModelConfigResponse.newBuilder().setConfig(TritonModelConfig.of(request.getName(),
                models.require(request.getName()).answering())).build());
    }

    /** One model's statistics, or every model's for an empty name. */
    private Future<ModelStatisticsResponse> modelStatistics(ModelStatisticsRequest request) {
        ModelStatisticsResponse.Builder answer = ModelStatisticsResponse.newBuilder();
        if (request.getName().isEmpty()) {
            models.names().forEach(name -> answer.addModelStats(statistics.of(name)));
        } else {
            checkVersion(request.getName(), request.getVersion());
            answer.addModelStats(statistics.of(request.getName()));
        }
        return Future.succeededFuture(answer.build());
    }

    private static ModelMetadataResponse.TensorMetadata tensor(ModelMetadata.Tensor tensor) {
        return ModelMetadataResponse.TensorMetadata.newBuilder().setName(tensor.name()).setDatatype(tensor.datatype())
                .addAllShape(tensor.shape()).build();
    }

    /** A ModelInfer message and what the codec read of it, on a worker thread: the request, or why it is refused. */
    record Inference(ModelInferRequest message, InferenceRequest read, ApiException refused) {
        static Inference of(ModelInferRequest message) {
            try {
                return new Inference(message, GrpcInferenceCodec.read(message), null);
            } catch (ApiException e) {
                return new Inference(message, null, e);
            }
        }
    }

    Future<Message> infer(Inference inference) {
        ModelInferRequest request = inference.message();
        checkVersion(request.getModelName(), request.getModelVersion());
        if (inference.refused() != null) {
            throw inference.refused();
        }
        return models.require(request.getModelName())
                .use(serving -> this.inference.infer(request.getModelName(), serving, inference.read())
                        .map(GrpcInferenceCodec::write));
    }

    /** An unknown model is NOT_FOUND before its version is looked at; a version other than "1" is NOT_FOUND too. */
    private void checkVersion(String model, String requested) {
        if (!models.knows(model)) {
            models.require(model);
        }
        if (!requested.isEmpty() && !requested.equals(ModelMetadata.VERSION)) {
            throw new ApiException(404, "unknown_version", "model '" + shortened(model) + "' has no version '"
                    + shortened(requested) + "'; vitserve serves version " + ModelMetadata.VERSION);
        }
    }

    private <Req extends Message> void unary(Vertx vertx, GrpcServer server, String method, Req prototype,
                                             Access access, Function<Req, Future<? extends Message>> handler) {
        unary(vertx, server, method, prototype, access, Function.identity(), handler);
    }

    /**
     * Registers a unary method. The key its access needs and the message's grpc-encoding are checked before the
     * message is read; the call then holds a place of the {@link ReceivingLimiter}, with the bytes it has sent, until
     * its message has arrived (within {@code --body-timeout-ms}, else DEADLINE_EXCEEDED), and only then does a
     * {@code LIMITED} call take a slot of the admission limit, so slow senders hold no slot the others need. The
     * message is then inflated, checked ({@link GrpcMessages}), parsed and {@code prepared} on a worker thread, never
     * on the event loop, and the {@code handler} answers. Each call is answered once.
     */
    private <Req extends Message, P> void unary(Vertx vertx, GrpcServer server, String method, Req prototype,
                                                Access access, Function<Req, P> prepare,
                                                Function<P, Future<? extends Message>> handler) {
        ServiceMethod<Req, Message> serviceMethod = ServiceMethod.server(SERVICE, method, GrpcMessageEncoder.encoder(),
                GrpcMessageDecoder.decoder(prototype.newBuilderForType()));
        server.callHandler(serviceMethod, request -> {
            Arrival arrival = ARRIVING.get() != null ? ARRIVING.get() : new Arrival();
            if (!allowed(request, method, access, arrival)) {
                return;
            }
            Call<Req, P> call = new Call<>(vertx, request, prototype, access == Access.LIMITED, prepare, handler);
            ReceivingLimiter.Reservation place = receiving.reserveGrowing(client(request), call::timedOut);
            if (place == null) {
                arrival.refused(request, GrpcStatus.RESOURCE_EXHAUSTED, "the server is receiving as many calls or "
                        + "bytes as it holds room for (at most " + receiving.maxPerClient() + " calls from one address); "
                        + "retry in a second");
                return;
            }
            call.start(place, arrival);
        });
    }

    /**
     * Whether the call may go on: the key its access needs, and a grpc-encoding offered; else it is refused with
     * PERMISSION_DENIED, UNAUTHENTICATED or UNIMPLEMENTED.
     */
    private boolean allowed(GrpcServerRequest<?, Message> request, String method, Access access, Arrival arrival) {
        ApiKeyCheck key = access == Access.ADMIN ? management.adminKey() : apiKey;
        String keyName = access == Access.ADMIN ? "admin API key" : "API key";
        if (access == Access.ADMIN && key == null) {
            arrival.refused(request, GrpcStatus.PERMISSION_DENIED, method + " manages models and is off on this "
                    + "server: start it with --admin-api-key KEY and send the metadata 'authorization: Bearer <KEY>'");
            return false;
        }
        if (key != null && !key.accepts(request.headers().get("authorization"))) {
            arrival.refused(request, GrpcStatus.UNAUTHENTICATED, request.headers().get("authorization") == null
                    ? method + " needs the " + keyName + ": send the metadata 'authorization: Bearer <key>'"
                    : "the " + keyName + " is wrong");
            return false;
        }
        String encoding = request.encoding();
        if (encoding != null && !GrpcMessages.ENCODINGS.contains(encoding)) {
            request.response().headers().set("grpc-accept-encoding", GrpcMessages.ACCEPTED);
            arrival.refused(request, GrpcStatus.UNIMPLEMENTED, "grpc-encoding '" + shortened(encoding)
                    + "' is not supported; send " + GrpcMessages.ACCEPTED);
            return false;
        }
        return true;
    }

    /**
     * Registers ModelStreamInfer ({@link GrpcInferStream}): the key and encoding checked as for a unary call, then each
     * request message read, admitted and run as ModelInfer's, with the stream's unread bytes bounded.
     */
    private void streamInfer(Vertx vertx, GrpcServer server) {
        ServiceMethod<ModelInferRequest, Message> method = ServiceMethod.server(SERVICE, "ModelStreamInfer",
                GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(ModelInferRequest.newBuilder()));
        server.callHandler(method, request -> {
            Arrival arrival = ARRIVING.get() != null ? ARRIVING.get() : new Arrival();
            if (!allowed(request, "ModelStreamInfer", Access.LIMITED, arrival)) {
                return;
            }
            ReceivingLimiter.Reservation place = receiving.reserveStream(client(request));
            if (place == null) {
                arrival.refused(request, GrpcStatus.RESOURCE_EXHAUSTED, "the server is receiving as many calls or "
                        + "bytes as it holds room for (at most " + receiving.maxPerClient() + " calls and streams from "
                        + "one address); retry in a second");
                return;
            }
            new GrpcInferStream(vertx, request, this, limiter, maxMessageSize, receiving.timeout(), arrival, place)
                    .start();
        });
    }

    private static String client(GrpcServerRequest<?, ?> request) {
        SocketAddress address = request.connection().remoteAddress();
        return address == null ? "" : address.hostAddress() != null ? address.hostAddress() : address.toString();
    }

    /**
     * The bytes of one gRPC call's HTTP request as they arrive, before vert.x's gRPC server reads them: counted into
     * the call's place among those arriving, and dropped once the call is answered (refused, timed out, or its
     * bytes past {@code --max-receiving-size}), so an answered call holds nothing more.
     */
    static final class Arrival {
        private ReceivingLimiter.Reservation place;
        private Runnable overflow;
        private java.util.function.Consumer<RuntimeException> broken;
        private boolean discarding;
        /** A stream's bound on the bytes arrived and not yet taken as messages, or 0 for a unary call. */
        private long maxUnread;
        private long unread;
        private CountedRequest counted;

        /**
         * Bounds this stream's bytes arrived and not yet {@link #taken}: past {@code maxUnread} the HTTP request is
         * paused (HTTP/2 flow control then stops the client), whatever vert.x's gRPC server would still queue.
         */
        void boundUnread(long maxUnread) {
            this.maxUnread = maxUnread;
        }

        /** A message of {@code length} bytes (its 5-byte frame header included) has been taken from the stream. */
        void taken(long length) {
            unread -= length;
            if (place != null) {
                place.shrink(length);
            }
            if (counted != null && !full()) {
                counted.unblock();
            }
        }

        boolean full() {
            return maxUnread > 0 && unread > maxUnread;
        }

        void refused(GrpcServerRequest<?, Message> request, GrpcStatus status, String message) {
            discarding = true;
            fail(request, status, message);
        }

        void watch(ReceivingLimiter.Reservation place, Runnable overflow,
                   java.util.function.Consumer<RuntimeException> broken) {
            this.place = place;
            this.overflow = overflow;
            this.broken = broken;
        }

        void discard() {
            discarding = true;
        }

        /** Whether a chunk of {@code length} bytes goes on to the gRPC server. */
        boolean accept(int length) {
            if (discarding) {
                return false;
            }
            unread += length;
            if (place != null && !place.grow(length)) {
                discarding = true;
                overflow.run();
                return false;
            }
            return true;
        }

        /** The gRPC server could not frame the bytes (a compressed message without grpc-encoding). */
        void broken(RuntimeException failure) {
            discarding = true;
            if (broken != null) {
                broken.accept(failure);
            }
        }
    }

    /**
     * The HTTP request of a gRPC call, its bytes counted by its {@link Arrival}; paused while the gRPC server asks it to
     * be or, for a stream, while its unread bytes are past their bound.
     */
    private static final class CountedRequest extends HttpServerRequestWrapper {
        private final Arrival arrival;
        private boolean pausedByServer;
        private boolean blocked;

        CountedRequest(HttpServerRequestInternal request, Arrival arrival) {
            super(request);
            this.arrival = arrival;
            arrival.counted = this;
        }

        @Override
        public HttpServerRequest pause() {
            pausedByServer = true;
            delegate.pause();
            return this;
        }

        @Override
        public HttpServerRequest resume() {
            pausedByServer = false;
            if (!blocked) {
                delegate.resume();
            }
            return this;
        }

        @Override
        public HttpServerRequest fetch(long amount) {
            pausedByServer = false;
            if (!blocked) {
                delegate.fetch(amount);
            }
            return this;
        }

        /** The stream's unread bytes are back within their bound. */
        void unblock() {
            if (blocked) {
                blocked = false;
                if (!pausedByServer) {
                    delegate.resume();
                }
            }
        }

        @Override
        public HttpServerRequest handler(Handler<Buffer> handler) {
            if (handler == null) {
                return delegate.handler(null);
            }
            delegate.handler(chunk -> {
                if (arrival.accept(chunk.length())) {
                    if (arrival.full() && !blocked) {
                        blocked = true;
                        delegate.pause();
                    }
                    try {
                        handler.handle(chunk);
                    } catch (RuntimeException e) {
                        arrival.broken(e);
                    }
                }
            });
            return this;
        }
    }

    /** One call: its message arriving within the deadline, its admission, its work and its one answer. */
    private final class Call<Req extends Message, P> {
        private final Vertx vertx;
        private final GrpcServerRequest<Req, Message> request;
        private final Req prototype;
        private final boolean limited;
        private final Function<Req, P> prepare;
        private final Function<P, Future<? extends Message>> handler;
        private final AtomicBoolean answered = new AtomicBoolean();
        private Arrival arrival;
        private ReceivingLimiter.Reservation place;
        private GrpcMessage message;
        private boolean more;
        private boolean admitted;

        Call(Vertx vertx, GrpcServerRequest<Req, Message> request, Req prototype, boolean limited,
             Function<Req, P> prepare, Function<P, Future<? extends Message>> handler) {
            this.vertx = vertx;
            this.request = request;
            this.prototype = prototype;
            this.limited = limited;
            this.prepare = prepare;
            this.handler = handler;
        }

        /** Reads the message as it arrived, which holds {@code place} among those arriving until it is in. */
        void start(ReceivingLimiter.Reservation place, Arrival arrival) {
            this.place = place;
            this.arrival = arrival;
            arrival.watch(place, () -> answer(GrpcStatus.RESOURCE_EXHAUSTED, "the server is receiving as many bytes "
                    + "as it holds room for; retry in a second"), failure -> answer(GrpcStatus.INVALID_ARGUMENT,
                    "the message could not be read: a compressed message needs a grpc-encoding"));
            // the client cancelled or reset the call: nobody to answer, and its message will not arrive
            request.errorHandler(error -> {
                answered.set(true);
                arrival.discard();
                place.end();
            });
            request.exceptionHandler(error -> place.end());
            request.invalidMessageHandler(invalid -> answer(GrpcStatus.RESOURCE_EXHAUSTED, "the message is "
                    + (invalid instanceof MessageSizeOverflowException over ? over.messageSize() + " bytes, " : "")
                    + "over " + maxMessageSize + " bytes, the bound (--max-body-size)"));
            request.messageHandler(arrived -> {
                if (message == null) {
                    message = arrived;
                } else {
                    more = true;
                }
            });
            request.endHandler(v -> arrived());
        }

        private void arrived() {
            place.release();
            if (answered.get()) {
                return;
            }
            if (message == null || more) {
                answer(GrpcStatus.INVALID_ARGUMENT, message == null ? "the call ended without a request message"
                        : "a unary call takes one request message; this call sent more");
                return;
            }
            ApiException refused = limited ? limiter.admit() : null;
            if (refused != null) {
                answer(refused);
                return;
            }
            admitted = limited;
            GrpcMessage received = message;
            message = null;
            vertx.executeBlocking(() -> prepare.apply(GrpcMessages.<Req>read(prototype, received.encoding(),
                    received.payload(), maxMessageSize)), false).compose(prepared -> {
                try {
                    return handler.apply(prepared);
                } catch (RuntimeException e) {
                    return Future.failedFuture(e);
                }
            }).onComplete(result -> {
                if (admitted) {
                    limiter.release();
                }
                if (result.succeeded()) {
                    if (answered.compareAndSet(false, true)) {
                        place.end();
                        request.response().end(result.result());
                    }
                } else {
                    answer(result.cause());
                }
            });
        }

        /** The message did not arrive within {@code --body-timeout-ms}. */
        void timedOut() {
            arrival.discard();
            answer(GrpcStatus.DEADLINE_EXCEEDED, "the request message did not arrive within "
                    + receiving.timeout().toMillis() + " ms");
        }

        private void answer(Throwable failure) {
            if (answered.compareAndSet(false, true)) {
                arrival.discard();
                place.end();
                try {
                    fail(request, failure);
                } catch (IllegalStateException closed) {
                    // the stream closed under the answer: the client has gone
                }
            }
        }

        private void answer(GrpcStatus status, String message) {
            answer(new GrpcRefusal(status, message));
        }
    }

    /** What a stream's error_message says of a request's failure, as the unary call's status message would. */
    static String errorMessage(Throwable failure) {
        if (failure instanceof GrpcRefusal refusal) {
            return bounded(refusal.getMessage());
        }
        ApiException known = ErrorResponses.fromFailure(failure);
        if (known == null) {
            LOG.error("gRPC ModelStreamInfer request failed", failure);
            return "the server failed to answer; the failure is in its log";
        }
        return bounded(known.getMessage());
    }

    /** Ends a call with the status, its message bounded. */
    static void failCall(GrpcServerRequest<?, Message> request, GrpcStatus status, String message) {
        fail(request, status, message);
    }

    private static void fail(GrpcServerRequest<?, Message> request, Throwable failure) {
        if (failure instanceof GrpcRefusal refusal) {
            fail(request, refusal.status(), refusal.getMessage());
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

    /** Every status is sent here, its message bounded (see {@link #bounded}). */
    private static void fail(GrpcServerRequest<?, Message> request, GrpcStatus status, String message) {
        request.response().status(status).statusMessage(bounded(message)).end();
    }

    /**
     * A status message cut to {@value #MAX_STATUS_MESSAGE} bytes as sent (grpc-message is percent-encoded: a byte
     * outside printable ASCII takes 3), ending in "..." when cut, so no request content echoed in it (a name, a
     * shape) makes the trailers too large for the client, which would reset the stream.
     */
    static String bounded(String message) {
        if (message == null) {
            return null;
        }
        int sent = 0;
        int cut = -1;
        for (int i = 0; i < message.length(); ) {
            int c = message.codePointAt(i);
            sent += c >= 0x20 && c < 0x7f && c != '%' ? 1 : 3 * new String(Character.toChars(c))
                    .getBytes(StandardCharsets.UTF_8).length;
            if (cut < 0 && sent > MAX_STATUS_MESSAGE - 3) {
                cut = i;
            }
            if (sent > MAX_STATUS_MESSAGE) {
                return message.substring(0, cut) + "...";
            }
            i += Character.charCount(c);
        }
        return message;
    }

    /** A name from the request, cut to {@value #MAX_NAME} characters with "..." when longer, to quote in a message. */
    static String shortened(String name) {
        return name.length() <= MAX_NAME ? name : name.substring(0, MAX_NAME) + "...";
    }
}
