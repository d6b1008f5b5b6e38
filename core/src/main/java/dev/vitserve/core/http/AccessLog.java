package dev.vitserve.core.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one line per answered request to the logger {@code vitserve.access}, in the common or
 * combined log format followed by the request id and the time taken in milliseconds, and with
 * every field also as a key-value pair (which the JSON log format prints as fields). Fields from
 * the request are escaped and cut to a bounded length: they are attacker input.
 */
public final class AccessLog implements Handler<RoutingContext> {

    /** Which fields a line has. */
    public enum Format {
        /** No access log. */
        OFF,
        /** {@code host - - [time] "request" status bytes}. */
        COMMON,
        /** Common, then {@code "referer" "user-agent"}. */
        COMBINED
    }

    /** The logger access lines go to. */
    public static final String LOGGER = "vitserve.access";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
    private static final int MAX_FIELD = 1024;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

    private final Format format;

    /** The status logged for a request whose connection closed before its answer ended ("client closed request"). */
    static final int CLIENT_CLOSED = 499;

    /** An access log of that format; {@link Format#OFF} still assigns request ids. */
    public AccessLog(Format format) {
        this.format = format;
    }

    @Override
    public void handle(RoutingContext ctx) {
        RequestId.assign(ctx);
        if (format != Format.OFF) {
            long start = System.nanoTime();
            ZonedDateTime received = ZonedDateTime.now();
            ctx.addEndHandler(done -> log(ctx.request(), RequestId.of(ctx), received, (System.nanoTime() - start) / 1e6));
        }
        ctx.next();
    }

    /**
     * For a request answered without a router (a gRPC call, a request the HTTP decoder refused): gives it
     * its request id, on the answer too, and returns what writes its line once the answer has ended
     * (it writes once, however often it is called).
     */
    Runnable begin(HttpServerRequest request) {
        String id = RequestId.accepted(request.getHeader(RequestId.HEADER));
        request.response().putHeader(RequestId.HEADER, id);
        if (format == Format.OFF) {
            return () -> { };
        }
        long start = System.nanoTime();
        ZonedDateTime received = ZonedDateTime.now();
        AtomicBoolean written = new AtomicBoolean();
        return () -> {
            if (written.compareAndSet(false, true)) {
                log(request, id, received, (System.nanoTime() - start) / 1e6);
            }
        };
    }

    private void log(HttpServerRequest request, String id, ZonedDateTime received, double ms) {
        String remote = request.remoteAddress() != null ? request.remoteAddress().hostAddress() : "-";
        String method = request.method() != null ? request.method().name() : "-";
        String uri = String.valueOf(request.uri());
        String requestLine = method + " " + uri + " " + protocol(request.version());
        // a request whose answer never ended was left by its client (or its connection closed under it): nginx's 499
        int status = request.response().ended() ? request.response().getStatusCode() : CLIENT_CLOSED;
        long bytes = request.response().bytesWritten();
        String duration = String.format(Locale.ROOT, "%.1f", ms);
        StringBuilder line = new StringBuilder(256).append(remote).append(" - - [").append(TIME.format(received))
                .append("] \"").append(escape(requestLine)).append("\" ").append(status).append(' ')
                .append(bytes == 0 ? "-" : Long.toString(bytes));
        String referer = request.getHeader("Referer");
        String userAgent = request.getHeader("User-Agent");
        if (format == Format.COMBINED) {
            line.append(" \"").append(orDash(referer)).append("\" \"").append(orDash(userAgent)).append('"');
        }
        line.append(" \"").append(id).append("\" ").append(duration);
        var event = LOG.atInfo()
                .addKeyValue("remote", remote)
                .addKeyValue("method", escape(method))
                .addKeyValue("uri", escape(uri))
                .addKeyValue("protocol", protocol(request.version()))
                .addKeyValue("status", status)
                .addKeyValue("bytes", bytes)
                .addKeyValue("duration_ms", ms)
                .addKeyValue("request_id", id);
        if (format == Format.COMBINED) {
            event = event.addKeyValue("referer", referer == null ? null : escape(referer))
                    .addKeyValue("user_agent", userAgent == null ? null : escape(userAgent));
        }
        event.log(line.toString());
    }

    private static String protocol(HttpVersion version) {
        if (version == null) {
            return "-";
        }
        return switch (version) {
            case HTTP_1_0 -> "HTTP/1.0";
            case HTTP_1_1 -> "HTTP/1.1";
            case HTTP_2 -> "HTTP/2.0";
        };
    }

    private static String orDash(String value) {
        return value == null ? "-" : escape(value);
    }

    /** Quotes, backslashes and control characters escaped as Apache does; at most 1024 characters kept. */
    static String escape(String value) {
        boolean cut = value.length() > MAX_FIELD;
        String kept = cut ? value.substring(0, MAX_FIELD) : value;
        StringBuilder out = new StringBuilder(kept.length() + 8);
        for (int i = 0; i < kept.length(); i++) {
            char c = kept.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                out.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return cut ? out.append("...").toString() : out.toString();
    }
}
