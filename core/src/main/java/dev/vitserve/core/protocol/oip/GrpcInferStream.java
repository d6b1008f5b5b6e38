package dev.vitserve.core.protocol.oip;

import com.google.protobuf.Message;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ReceivingLimiter;
import dev.vitserve.core.http.RequestLimiter;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelInferResponse;
import dev.vitserve.core.protocol.oip.grpc.ModelStreamInferResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.server.GrpcServerRequest;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * One ModelStreamInfer call: each request message is read, admitted and run exactly as a ModelInfer call's
 * ({@link OipGrpcService#infer}, the same codec, pipeline and admission limit), and answered by one
 * ModelStreamInferResponse, in the order the requests came; a request's failure is its response's
 * {@code error_message} and the stream goes on. Bounded: at most {@value #MAX_IN_FLIGHT} requests in flight; past it,
 * or while the client does not read the answers, the stream is not read (HTTP/2 flow control then stops the client);
 * the bytes arrived and not yet taken are bounded too; a stream with nothing in flight and no request arriving for
 * {@code --body-timeout-ms} ends with DEADLINE_EXCEEDED. The stream holds a place among the calls receiving while
 * it is open ({@link ReceivingLimiter#reserveStream}), its unread bytes counted there.
 */
final class GrpcInferStream {

    /** The most requests of one stream being run or waiting for their turn to be answered. */
    static final int MAX_IN_FLIGHT = 4;

    /** A request's answer, in the stream's order. */
    private static final class Turn {
        private final Promise<ModelStreamInferResponse> answer = Promise.promise();
    }

    private final Vertx vertx;
    private final GrpcServerRequest<ModelInferRequest, Message> request;
    private final OipGrpcService service;
    private final RequestLimiter limiter;
    private final long maxMessageSize;
    private final Duration idleTimeout;
    private final OipGrpcService.Arrival arrival;
    private final ReceivingLimiter.Reservation place;
    private final ArrayDeque<Turn> turns = new ArrayDeque<>();
    private boolean paused;
    private boolean ended;
    private boolean closed;
    private long idleTimer = -1;

    GrpcInferStream(Vertx vertx, GrpcServerRequest<ModelInferRequest, Message> request, OipGrpcService service,
                    RequestLimiter limiter, long maxMessageSize, Duration idleTimeout, OipGrpcService.Arrival arrival,
                    ReceivingLimiter.Reservation place) {
        this.place = place;
        this.vertx = vertx;
        this.request = request;
        this.service = service;
        this.limiter = limiter;
        this.maxMessageSize = maxMessageSize;
        this.idleTimeout = idleTimeout;
        this.arrival = arrival;
    }

    void start() {
        // one message may be whole and the next one arriving: beyond that, the client waits
        arrival.boundUnread(2 * (maxMessageSize + 5));
        arrival.watch(place, () -> end(GrpcStatus.RESOURCE_EXHAUSTED, "the server is receiving as many bytes as it "
                + "holds room for; retry in a second"), failure -> end(GrpcStatus.INVALID_ARGUMENT, "a message could not "
                + "be read: a compressed message needs a grpc-encoding"));
        request.errorHandler(error -> close());
        request.exceptionHandler(error -> close());
        request.invalidMessageHandler(invalid -> {
            // its bytes were dropped as they came: no longer unread
            arrival.taken(invalid instanceof MessageSizeOverflowException over ? over.messageSize() + 5L : 0);
            Turn turn = enqueue();
            turn.answer.complete(error(null, "the message is " + (invalid instanceof MessageSizeOverflowException over
                    ? over.messageSize() + " bytes, " : "") + "over " + maxMessageSize + " bytes, the bound "
                    + "(--max-body-size)"));
            flush();
        });
        request.messageHandler(this::arrived);
        request.endHandler(v -> {
            ended = true;
            flush();
        });
        request.response().drainHandler(v -> flow());
        idle();
    }

    private Turn enqueue() {
        Turn turn = new Turn();
        turns.add(turn);
        idle();
        flow();
        return turn;
    }

    private void arrived(GrpcMessage message) {
        arrival.taken(message.payload().length() + 5L);
        if (closed) {
            return;
        }
        Turn turn = enqueue();
        ApiException refused = limiter.admit();
        if (refused != null) {
            turn.answer.complete(error(null, OipGrpcService.errorMessage(refused)));
            flush();
            return;
        }
        vertx.executeBlocking(() -> OipGrpcService.Inference.of(GrpcMessages.<ModelInferRequest>read(
                ModelInferRequest.getDefaultInstance(), message.encoding(), message.payload(), maxMessageSize)), false)
                .compose(inference -> {
                    try {
                        return service.infer(inference).<Object>map(answer -> answer)
                                .recover(failure -> Future.succeededFuture(error(inference.message(),
                                        OipGrpcService.errorMessage(failure))));
                    } catch (RuntimeException e) {
                        return Future.succeededFuture(error(inference.message(), OipGrpcService.errorMessage(e)));
                    }
                })
                .onComplete(result -> {
                    limiter.release();
                    if (result.failed()) {
                        turn.answer.complete(error(null, OipGrpcService.errorMessage(result.cause())));
                    } else if (result.result() instanceof ModelStreamInferResponse failed) {
                        turn.answer.complete(failed);
                    } else {
                        turn.answer.complete(ModelStreamInferResponse.newBuilder()
                                .setInferResponse((ModelInferResponse) result.result()).build());
                    }
                    flush();
                });
    }

    /** A failed request's answer: its message, and the model and id it named when it could be read. */
    private static ModelStreamInferResponse error(ModelInferRequest failed, String message) {
        ModelStreamInferResponse.Builder answer = ModelStreamInferResponse.newBuilder().setErrorMessage(message);
        if (failed != null) {
            answer.setInferResponse(ModelInferResponse.newBuilder().setModelName(failed.getModelName())
                    .setModelVersion(failed.getModelVersion()).setId(failed.getId()));
        }
        return answer.build();
    }

    /** Writes the answers ready at the head of the line, in order; ends the call when the client has ended. */
    private void flush() {
        if (closed) {
            return;
        }
        try {
            while (!turns.isEmpty() && turns.peek().answer.future().isComplete()) {
                request.response().write(turns.poll().answer.future().result());
            }
            if (ended && turns.isEmpty()) {
                close();
                request.response().end();
                return;
            }
        } catch (IllegalStateException gone) {
            close();
            return;
        }
        idle();
        flow();
    }

    /** Reads on while fewer than {@value #MAX_IN_FLIGHT} requests are in flight and the client reads its answers. */
    private void flow() {
        boolean hold = turns.size() >= MAX_IN_FLIGHT || request.response().writeQueueFull();
        if (hold && !paused) {
            paused = true;
            request.pause();
        } else if (!hold && paused) {
            paused = false;
            request.resume();
        }
    }

    /** Restarts the idle deadline: it runs only while nothing is in flight. */
    private void idle() {
        vertx.cancelTimer(idleTimer);
        idleTimer = -1;
        if (!closed && turns.isEmpty() && !ended) {
            idleTimer = vertx.setTimer(idleTimeout.toMillis(), id -> {
                if (turns.isEmpty()) {
                    end(GrpcStatus.DEADLINE_EXCEEDED, "the stream sent no request for " + idleTimeout.toMillis()
                            + " ms (--body-timeout-ms) with none in flight");
                }
            });
        }
    }

    /** Ends the stream with that status, whatever is in flight. */
    private void end(GrpcStatus status, String message) {
        if (!closed) {
            close();
            try {
                OipGrpcService.failCall(request, status, message);
            } catch (IllegalStateException gone) {
                // the client has gone already
            }
        }
    }

    /** The stream is over (ended, failed, or its client gone): nothing more is read or written, its place given back. */
    private void close() {
        closed = true;
        vertx.cancelTimer(idleTimer);
        arrival.discard();
        place.end();
    }
}
