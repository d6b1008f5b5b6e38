package dev.vitserve.core.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a request's body within its bounds before the request is handled. A multipart body is
 * read here: its files are kept in memory, bounded by the body limit as a raw body is, so an upload
 * never leaves a file or a descriptor behind; past {@code --max-files} files, or past the body
 * limit, the request is answered with a 413 at once and the rest of its body thrown away; a body
 * that ends before its closing boundary is a 400. A body with a Content-Encoding is read and inflated within the
 * same limit by {@link CompressedBodyReader}. Other bodies go to Vert.x's {@link BodyHandler}.
 */
public final class BodyReader implements Handler<RoutingContext> {

    /** Where the files of a multipart body are kept in the routing context, as a {@code List<Upload>}. */
    public static final String UPLOADS = "vitserve.uploads";

    /** One file of a multipart body. */
    public record Upload(String field, String fileName, byte[] bytes) {
    }

    private final BodyHandler bodyHandler;
    private final CompressedBodyReader compressedBody;
    private final long maxBodySize;
    private final int maxFiles;

    BodyReader(long maxBodySize, int maxFiles) {
        this.maxBodySize = maxBodySize;
        this.maxFiles = maxFiles;
        this.bodyHandler = BodyHandler.create(false).setBodyLimit(maxBodySize);
        this.compressedBody = new CompressedBodyReader(maxBodySize);
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (CompressedBodyReader.compressed(ctx)) {
            compressedBody.read(ctx);
        } else if (ImageRequestReader.mediaType(ctx.request().getHeader("Content-Type")).equals("multipart/form-data")) {
            new MultipartRead(ctx).start();
        } else {
            bodyHandler.handle(ctx);
        }
    }

    /** One multipart body being read. */
    private final class MultipartRead {
        private final RoutingContext ctx;
        private final HttpServerRequest request;
        private final List<Part> parts = new ArrayList<>();
        private long received;
        private boolean refused;

        MultipartRead(RoutingContext ctx) {
            this.ctx = ctx;
            this.request = ctx.request();
        }

        void start() {
            request.setExpectMultipart(true);
            request.uploadHandler(this::upload);
            request.handler(chunk -> {
                received += chunk.length();
                if (refused && received > maxBodySize) {
                    request.connection().close();
                } else if (received > maxBodySize) {
                    refuse(ErrorResponses.bodyTooLarge("the request body", maxBodySize, "--max-body-size"));
                }
            });
            request.exceptionHandler(failure -> refuse(ApiException.badRequest("bad_multipart",
                    "the multipart body is malformed: " + failure.getMessage())));
            request.endHandler(end -> finish());
            ctx.addEndHandler(done -> parts.clear());
            request.resume();
        }

        private void upload(HttpServerFileUpload upload) {
            if (refused) {
                upload.handler(ignored -> { });
                return;
            }
            if (parts.size() >= maxFiles) {
                upload.handler(ignored -> { });
                refuse(ApiException.tooLarge("too_many_files", "the request holds more than " + maxFiles
                        + " files; this server takes at most " + maxFiles + " per request"));
                return;
            }
            Part part = new Part(upload.name(), upload.filename());
            parts.add(part);
            upload.handler(chunk -> {
                if (!refused) {
                    part.data.appendBuffer(chunk);
                }
            });
            upload.endHandler(end -> part.complete = true);
            upload.exceptionHandler(failure -> refuse(ApiException.badRequest("bad_multipart",
                    "the multipart body is malformed: " + failure.getMessage())));
        }

        private void finish() {
            if (refused) {
                return;
            }
            if (parts.stream().anyMatch(part -> !part.complete)) {
                refuse(ApiException.badRequest("bad_multipart", "the multipart body ends before its closing "
                        + "boundary: the last file is cut off"));
                return;
            }
            ctx.put(UPLOADS, parts.stream().map(part -> new Upload(part.field, part.fileName, part.data.getBytes())).toList());
            parts.clear();
            ctx.next();
        }

        /** Answers with the error now; the rest of the body is thrown away (up to the body limit, then the connection closes). */
        private void refuse(ApiException error) {
            if (refused) {
                return;
            }
            refused = true;
            parts.clear();
            if (!request.isEnded()) {
                ctx.response().putHeader("Connection", "close");
            }
            ErrorResponses.send(ctx, error);
        }
    }

    private static final class Part {
        final String field;
        final String fileName;
        final Buffer data = Buffer.buffer();
        boolean complete;

        Part(String field, String fileName) {
            this.field = field;
            this.fileName = fileName;
        }
    }
}
