package dev.vitserve.core.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.image.ImageFormat;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Finds the images in a classify request, whatever form it takes: a raw body
 * ({@code image/*} or {@code application/octet-stream}), multipart with one or more files
 * (any field names), or JSON {@code {"url": ...}}, {@code {"image": "<base64>"}} or
 * {@code {"inputs": "<base64 or url>"}} (or Hugging Face's zero-shot form {@code {"inputs": {"image": ...}}}). URLs are fetched with the {@link UrlFetcher}. A body
 * declared as {@code application/x-www-form-urlencoded} is taken as raw bytes (see {@link FormBody}).
 */
public final class ImageRequestReader {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    private final UrlFetcher fetcher;
    private final int maxFiles;
    private final ObjectMapper jsonReader;

    ImageRequestReader(UrlFetcher fetcher, int maxFiles, long maxBodySize) {
        this.fetcher = fetcher;
        this.maxFiles = maxFiles;
        // Jackson refuses strings over 20 million characters by default, less than the base64 of an
        // image a 20 MB body can hold: the body limit already bounds every string
        this.jsonReader = new ObjectMapper(JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength((int) Math.min(Integer.MAX_VALUE - 8, Math.max(maxBodySize, 1024))).build()).build());
    }

    /** Where {@link #read} leaves a JSON body's object for the handler after it (its {@code parameters}, say). */
    public static final String JSON_BODY = "vitserve.jsonBody";

    /** Every image of the request, in order; a JSON body is parsed once, on a worker. */
    public Future<List<RequestImage>> read(RoutingContext ctx) {
        String type = mediaType(ctx.request().getHeader("Content-Type"));
        if (type.equals("multipart/form-data")) {
            List<BodyReader.Upload> uploads = ctx.get(BodyReader.UPLOADS);
            return uploads(uploads == null ? List.of() : uploads);
        }
        if (type.equals("application/json") || type.endsWith("+json")) {
            return json(ctx);
        }
        if (isRawBody(type)) {
            return rawBody(ctx).map(List::of);
        }
        return Future.failedFuture(new ApiException(415, "unsupported_media_type", "Content-Type '" + type
                + "' is not accepted: send the image as the body (image/* or application/octet-stream), "
                + "as multipart/form-data, or as JSON {\"url\": ...} or {\"image\": \"<base64>\"}"));
    }

    /** Whether the body is one image as it is: no Content-Type, image/* or octet-stream (which {@link FormBody} leaves a form as). */
    public static boolean isRawBody(String type) {
        return type.isEmpty() || type.startsWith("image/") || type.equals("application/octet-stream");
    }

    /**
     * The body as one image. A body declared as a form (curl's {@code --data-binary} without
     * {@code -H}) is taken when its bytes are an image, since the bytes decide the format.
     */
    public Future<RequestImage> rawBody(RoutingContext ctx) {
        byte[] body = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        if (body.length == 0) {
            return Future.failedFuture(ApiException.badRequest("empty_body",
                    "the request has no body: send an image, a multipart upload or JSON with a url"));
        }
        if (FormBody.declared(ctx) && ImageFormat.sniff(body).isEmpty()) {
            return Future.failedFuture(new ApiException(415, "unsupported_media_type", "the body is sent as "
                    + FormBody.FORM + " and is not an image: send the image with its own type "
                    + "(curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'), as a multipart upload "
                    + "(curl -F image=@photo.jpg), or JSON {\"url\": ...}"));
        }
        return Future.succeededFuture(new RequestImage(null, body));
    }

    /** The uploaded files of a multipart body, in order, after checking how many there are. */
    public Future<List<RequestImage>> uploads(List<BodyReader.Upload> uploads) {
        if (uploads.isEmpty()) {
            return Future.failedFuture(ApiException.badRequest("no_file", "the multipart body holds no file"));
        }
        if (uploads.size() > maxFiles) {
            return Future.failedFuture(ApiException.tooLarge("too_many_files", "the request holds "
                    + uploads.size() + " files; this server takes at most " + maxFiles + " per request"));
        }
        return Future.succeededFuture(uploads.stream().map(upload -> new RequestImage(upload.fileName(), upload.bytes())).toList());
    }

    private Future<List<RequestImage>> json(RoutingContext ctx) {
        if (ctx.body().buffer() == null || ctx.body().buffer().length() == 0) {
            return Future.failedFuture(ApiException.badRequest("invalid_json", "the JSON body is empty"));
        }
        byte[] bytes = ctx.body().buffer().getBytes();
        // parsing up to 20 MB takes tens of milliseconds: on a worker, never on the event loop
        return ctx.vertx().executeBlocking(() -> parse(bytes), false).compose(body -> {
            ctx.put(JSON_BODY, body);
            return images(ctx, body);
        });
    }

    /** A JSON body's object, parsed on a worker as {@link #read} parses it; fails with a 4xx when it is not one. */
    public Future<JsonObject> object(RoutingContext ctx) {
        String type = mediaType(ctx.request().getHeader("Content-Type"));
        if (!type.equals("application/json") && !type.endsWith("+json")) {
            return Future.failedFuture(new ApiException(415, "unsupported_media_type", "Content-Type '" + type
                    + "' is not accepted: send a JSON object (application/json)"));
        }
        if (ctx.body().buffer() == null || ctx.body().buffer().length() == 0) {
            return Future.failedFuture(ApiException.badRequest("invalid_json", "the JSON body is empty"));
        }
        byte[] bytes = ctx.body().buffer().getBytes();
        return ctx.vertx().executeBlocking(() -> parse(bytes), false);
    }

    /** The JSON object of a body, its shape checked before it is built ({@link JsonShape#REQUESTS}). */
    private JsonObject parse(byte[] bytes) {
        JsonShape.REQUESTS.check(bytes);
        Map<String, Object> fields;
        try {
            fields = jsonReader.readValue(bytes, MAP);
        } catch (IOException e) {
            fields = null;
        }
        if (fields == null) {
            throw ApiException.badRequest("invalid_json", "the body is not a JSON object");
        }
        return new JsonObject(fields);
    }

    private Future<List<RequestImage>> images(RoutingContext ctx, JsonObject body) {
        Object url = body.getValue("url");
        Object image = body.getValue("image");
        Object inputs = body.getValue("inputs");
        int given = (url != null ? 1 : 0) + (image != null ? 1 : 0) + (inputs != null ? 1 : 0);
        if (given != 1) {
            return Future.failedFuture(ApiException.badRequest("invalid_json",
                    "give exactly one of \"url\", \"image\" (base64) or \"inputs\" (base64 or url)"));
        }
        String key = url != null ? "url" : image != null ? "image" : "inputs";
        if (inputs instanceof JsonObject object) {
            // Hugging Face's zero-shot form, {"inputs": {"image": "<base64>"}}, which @huggingface/inference sends
            inputs = object.getValue("image");
            key = "inputs.image";
            if (inputs == null) {
                return Future.failedFuture(ApiException.badRequest("invalid_json",
                        "\"inputs\" as an object must hold \"image\" (base64 or url)"));
            }
        }
        Object value = url != null ? url : image != null ? image : inputs;
        if (!(value instanceof String text) || text.isBlank()) {
            return Future.failedFuture(ApiException.badRequest("invalid_json", "\"" + key + "\" must be a non-empty string"));
        }
        boolean isUrl = url != null || (inputs != null && looksLikeUrl(text));
        if (isUrl) {
            return fetch(ctx, text).map(List::of);
        }
        try {
            return Future.succeededFuture(List.of(new RequestImage(null, base64(key, text))));
        } catch (ApiException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * Fetches an image URL for a request; the result is named by the URL. While the fetch runs the request holds no
     * {@code --max-requests} slot (it takes one again when the image has come, 503 when none is free); the bytes
     * fetched are held in the request's memory ({@link RequestMemory}) until it ends.
     */
    public Future<RequestImage> fetch(RoutingContext ctx, String url) {
        RequestLimiter.Slot slot = RequestLimiter.slot(ctx);
        if (slot != null) {
            slot.suspend();
        }
        return fetcher.fetch(url, RequestMemory.of(ctx, fetcher.budget())).compose(fetched -> {
            ApiException refused = slot == null ? null : slot.resume();
            return refused != null ? Future.failedFuture(refused)
                    : Future.succeededFuture(new RequestImage(url, fetched.bytes()));
        });
    }

    private static boolean looksLikeUrl(String text) {
        String lower = text.trim().toLowerCase(Locale.ROOT);
        return lower.startsWith("http://") || lower.startsWith("https://");
    }

    private static byte[] base64(String key, String text) {
        String data = text.trim();
        if (data.startsWith("data:")) {
            int comma = data.indexOf(',');
            if (comma < 0 || !data.substring(0, comma).endsWith(";base64")) {
                throw ApiException.badRequest("invalid_base64", "\"" + key + "\" is a data URL without base64 data");
            }
            data = data.substring(comma + 1);
        }
        try {
            byte[] bytes = Base64.getMimeDecoder().decode(data.replace('-', '+').replace('_', '/'));
            if (bytes.length == 0) {
                throw ApiException.badRequest("invalid_base64", "\"" + key + "\" decodes to no bytes");
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_base64", "\"" + key + "\" is not valid base64: " + e.getMessage());
        }
    }

    /** The media type of a Content-Type header, lower case without parameters ("" when there is none). */
    public static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType).trim().toLowerCase(Locale.ROOT);
    }
}
