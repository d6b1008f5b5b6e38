package dev.vitserve.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.Http1xOrH2CHandler;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vert.x's HTTP/1.1 request decoder, strict where request smuggling and unanswered errors begin.
 * A request with both Content-Length and Transfer-Encoding (RFC 9112 section 6.1), or whose
 * Transfer-Encoding does not end with {@code chunked} (section 6.3, e.g. {@code chunked, identity}),
 * is invalid: it gets a JSON 400 and the connection is closed, so nothing after it is read as
 * another request; other transfer codings are a 501. A chunked body with a bad chunk size gets a
 * JSON 400 before the connection closes, instead of a bare close. Headers cut off by the client
 * hanging up are dropped rather than handed on as a request nobody can answer (each of those left
 * Vert.x's active-requests gauge one higher for good).
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(StrictRequestDecoder.class);
    private static volatile boolean warned;

    /** Why a request is refused before it reaches the router: the status and JSON error to answer with. */
    static final class ProtocolError extends DecoderException {
        final int status;
        final String code;

        ProtocolError(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    /** Set once a request is refused for its framing: every later byte of the connection is thrown away. */
    private boolean discarding;

    private StrictRequestDecoder(HttpServerOptions options) {
        super(options);
    }

    /** Puts the strict decoder in place of Vert.x's on an HTTP/1.x connection that has just been accepted. */
    static void install(HttpConnection connection, HttpServerOptions options) {
        if (!(connection instanceof Http1xServerConnection)) {
            return; // HTTP/2 frames its messages itself
        }
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
            if (replace(pipeline, options) || pipeline.get("httpDecoder") instanceof StrictRequestDecoder) {
                return;
            }
        }
        if (!warned) {
            warned = true;
            LOG.warn("HTTP connections use Vert.x's own request decoder (found no 'httpDecoder' to replace on {}): "
                    + "Content-Length with Transfer-Encoding is not refused", connection.getClass().getName());
        }
    }

    /** Replaces Vert.x's HTTP/1.x decoder on the pipeline, if it has one; true when it did. */
    private static boolean replace(ChannelPipeline pipeline, HttpServerOptions options) {
        if (pipeline.get("httpDecoder") instanceof VertxHttpRequestDecoder current
                && !(current instanceof StrictRequestDecoder)) {
            pipeline.replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options));
            return true;
        }
        return false;
    }

    /**
     * For a clear-text listener that also takes HTTP/2 with prior knowledge (the gRPC listener): Vert.x
     * adds its HTTP/1.x decoder only once the first bytes show they are not HTTP/2's preface, and hands
     * them on to it at once, before the connection handler runs (that is after the first request). This
     * handler, put on a connection as it is accepted, steps behind Vert.x's preface detector at the first
     * bytes, so that the strict decoder is in place before any request is read.
     */
    static ChannelHandler beforeFirstRequest(HttpServerOptions options) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ChannelPipeline pipeline = ctx.pipeline();
                ChannelHandlerContext detector = pipeline.context(Http1xOrH2CHandler.class);
                if (detector != null) {
                    pipeline.addAfter(detector.name(), null, new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext next, Object bytes) {
                            replace(next.pipeline(), options);
                            next.pipeline().remove(this);
                            next.fireChannelRead(bytes);
                        }
                    });
                } else {
                    replace(pipeline, options);
                }
                pipeline.remove(this);
                ctx.fireChannelRead(msg);
            }
        };
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        super.handleTransferEncodingChunkedWithContentLength(message);
        message.setDecoderResult(DecoderResult.failure(new ProtocolError(400, "bad_request",
                "the request has both Content-Length and Transfer-Encoding, which RFC 9112 forbids")));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (discarding) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        int from = out.size();
        super.decode(ctx, buffer, out);
        for (int i = from; i < out.size(); i++) {
            Object decoded = out.get(i);
            if (decoded instanceof HttpRequest request) {
                checkTransferEncoding(request);
                if (request.decoderResult().cause() instanceof ProtocolError) {
                    // its answer closes the connection: nothing after it may be read as a request
                    discarding = true;
                    for (int j = out.size() - 1; j > i; j--) {
                        ReferenceCountUtil.release(out.remove(j));
                    }
                    buffer.skipBytes(buffer.readableBytes());
                    return;
                }
            } else if (decoded instanceof HttpContent content && content.decoderResult().isFailure()) {
                // the decoder now discards the rest of the connection's bytes: answer, then close
                for (int j = out.size() - 1; j >= i; j--) {
                    ReferenceCountUtil.release(out.remove(j));
                }
                String reason = content.decoderResult().cause().getMessage();
                ctx.writeAndFlush(rawAnswer(400, "Bad Request", "bad_request", "the chunked body is malformed"
                        + (reason == null ? "" : ": " + reason))).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        int from = out.size();
        super.decodeLast(ctx, in, out);
        for (int i = out.size() - 1; i >= from; i--) {
            if (out.get(i) instanceof HttpRequest request
                    && request.decoderResult().cause() instanceof PrematureChannelClosureException) {
                ReferenceCountUtil.release(out.remove(i));
            }
        }
    }

    private static void checkTransferEncoding(HttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            return;
        }
        List<String> codings = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING).stream()
                .flatMap(value -> Arrays.stream(value.split(",")))
                .map(coding -> coding.trim().toLowerCase(Locale.ROOT)).filter(coding -> !coding.isEmpty()).toList();
        if (codings.isEmpty() && !request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return;
        }
        if (codings.isEmpty() || !codings.get(codings.size() - 1).equals("chunked")
                || codings.indexOf("chunked") != codings.size() - 1) {
            request.setDecoderResult(DecoderResult.failure(new ProtocolError(400, "bad_request",
                    "Transfer-Encoding '" + String.join(", ", codings) + "' does not end with chunked once, "
                            + "so the body's length is unknown (RFC 9112 section 6.3)")));
        } else if (codings.size() > 1) {
            request.setDecoderResult(DecoderResult.failure(new ProtocolError(501, "not_implemented",
                    "Transfer-Encoding '" + String.join(", ", codings) + "' is not supported: send the body "
                            + "with Transfer-Encoding: chunked alone or with Content-Length")));
        }
    }

    /** A whole HTTP/1.1 answer with a JSON error body that closes the connection, for when no response object exists. */
    private static ByteBuf rawAnswer(int status, String reason, String code, String message) {
        byte[] body = ErrorResponses.json(code, message).getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n";
        return Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
    }
}
