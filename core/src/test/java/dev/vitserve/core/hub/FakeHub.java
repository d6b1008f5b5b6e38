package dev.vitserve.core.hub;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for the Hugging Face Hub on loopback, answering as the Hub does:
 * {@code HEAD/GET /{org}/{name}/resolve/{revision}/{file}} with {@code X-Repo-Commit}; small files with
 * their git blob sha1 as {@code ETag}; LFS files ({@code *.safetensors}, {@code *.bin}, anything of 1 MB or
 * more) with a 302 to a "CDN" path, {@code X-Linked-Etag} (sha256) and {@code X-Linked-Size}; errors with
 * {@code X-Error-Code} (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), 401 for anonymous
 * requests on unknown or private repositories. The CDN ({@code /cdn/<sha256>}) supports {@code Range}, and
 * can run on a second port, i.e. another host as far as tokens go. Every request is recorded; tests can
 * cut a body short, corrupt it, hold it, or ignore {@code Range}.
 */
final class FakeHub implements AutoCloseable {

    /** A request as the stand-in saw it. */
    record Request(String method, String path, String range, String authorization, boolean cdn) {
    }

    /** A repository: its commit, files, and who may read it. */
    static final class Repo {
        final String commit;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        volatile String requiredToken;
        volatile boolean gated;

        Repo(String commit) {
            this.commit = commit;
        }

        Repo add(String name, byte[] bytes) {
            files.put(name, bytes);
            return this;
        }

        /** Adds files of a folder, under their own names. */
        Repo addFrom(Path folder, String... names) {
            for (String name : names) {
                try {
                    add(name, Files.readAllBytes(folder.resolve(name)));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return this;
        }
    }

    private static final Pattern RESOLVE = Pattern.compile("/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** GET bodies from the CDN still to cut short, after {@link #cutAfter} bytes. */
    final AtomicInteger cutsLeft = new AtomicInteger();
    volatile long cutAfter;
    /** Serve LFS bodies with one byte changed (same size, wrong sha256). */
    volatile boolean corrupt;
    /** Answer 200 with the whole file even when asked for a range. */
    volatile boolean ignoreRange;
    /** While set and not complete, CDN bodies wait for it. */
    volatile Promise<Void> gate;

    private final Vertx vertx;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private HttpServer hub;
    private HttpServer cdn;

    private FakeHub(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Starts the Hub; with {@code cdnElsewhere}, its CDN listens on a port of its own. */
    static FakeHub start(Vertx vertx, boolean cdnElsewhere) throws Exception {
        FakeHub fake = new FakeHub(vertx);
        fake.hub = vertx.createHttpServer().requestHandler(request -> fake.handle(request, false));
        fake.hub.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        if (cdnElsewhere) {
            fake.cdn = vertx.createHttpServer().requestHandler(request -> fake.handle(request, true));
            fake.cdn.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        }
        return fake;
    }

    /** A repository with a fixed-looking random commit. */
    Repo repo(String id) {
        return repos.computeIfAbsent(id, key -> new Repo(randomHex(40, id.hashCode())));
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.actualPort();
    }

    private String cdnBase() {
        return "http://127.0.0.1:" + (cdn != null ? cdn : hub).actualPort();
    }

    List<Request> requestsTo(String pathPart) {
        return requests.stream().filter(r -> r.path().contains(pathPart)).toList();
    }

    private void handle(HttpServerRequest request, boolean onCdnPort) {
        request.response().exceptionHandler(ignored -> { });
        String path = request.path();
        requests.add(new Request(request.method().name(), path, request.getHeader("Range"),
                request.getHeader("Authorization"), path.startsWith("/cdn/")));
        if (path.startsWith("/cdn/")) {
            serveBlob(request, path.substring("/cdn/".length()));
            return;
        }
        Matcher m = RESOLVE.matcher(path);
        if (onCdnPort || !m.matches()) {
            request.response().setStatusCode(404).end("Not Found");
            return;
        }
        String id = m.group(1) + "/" + m.group(2);
        String revision = URLDecoder.decode(m.group(3), StandardCharsets.UTF_8);
        String file = URLDecoder.decode(m.group(4), StandardCharsets.UTF_8);
        Repo repo = repos.get(id);
        String authorization = request.getHeader("Authorization");
        HttpServerResponse response = request.response();
        if (repo == null || (repo.requiredToken != null && !("Bearer " + repo.requiredToken).equals(authorization))) {
            error(response, authorization == null ? 401 : 404, "RepoNotFound", "Repository not found");
            return;
        }
        if (repo.gated && authorization == null) {
            error(response, 401, "GatedRepo", "Access to model " + id + " is restricted.");
            return;
        }
        if (!revision.equals("main") && !revision.equals(repo.commit)) {
            error(response, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        byte[] bytes = repo.files.get(file);
        response.putHeader("X-Repo-Commit", repo.commit);
        if (bytes == null) {
            error(response, 404, "EntryNotFound", "Entry not found");
            return;
        }
        if (isLfs(file, bytes)) {
            response.setStatusCode(302)
                    .putHeader("Location", cdnBase() + "/cdn/" + sha256(bytes) + "?X-Amz-Signature=abc")
                    .putHeader("X-Linked-Etag", "\"" + sha256(bytes) + "\"")
                    .putHeader("X-Linked-Size", String.valueOf(bytes.length))
                    .putHeader("ETag", "\"" + gitSha1(("version https://git-lfs.github.com/spec/v1\n").getBytes(
                            StandardCharsets.UTF_8)) + "\"")
                    .putHeader("Content-Length", "0")
                    .end();
            return;
        }
        response.putHeader("ETag", "\"" + gitSha1(bytes) + "\"").putHeader("Accept-Ranges", "bytes")
                .putHeader("Content-Length", String.valueOf(bytes.length));
        if (request.method() == HttpMethod.HEAD) {
            response.end();
        } else {
            response.end(Buffer.buffer(bytes));
        }
    }

    private void serveBlob(HttpServerRequest request, String sha) {
        byte[] found = null;
        for (Repo repo : repos.values()) {
            for (byte[] bytes : repo.files.values()) {
                if (sha256(bytes).equals(sha)) {
                    found = bytes;
                }
            }
        }
        HttpServerResponse response = request.response();
        if (found == null) {
            response.setStatusCode(404).end();
            return;
        }
        byte[] bytes = found.clone();
        if (corrupt) {
            bytes[bytes.length / 2] ^= 0x5a;
        }
        int start = 0;
        Matcher range = RANGE.matcher(String.valueOf(request.getHeader("Range")));
        response.putHeader("Accept-Ranges", "bytes").putHeader("Content-Type", "application/octet-stream");
        if (range.matches() && !ignoreRange) {
            start = Integer.parseInt(range.group(1));
            if (start >= bytes.length) {
                response.setStatusCode(416).putHeader("Content-Range", "bytes */" + bytes.length).end();
                return;
            }
            response.setStatusCode(206).putHeader("Content-Range",
                    "bytes " + start + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        Buffer body = Buffer.buffer(bytes).slice(start, bytes.length);
        response.putHeader("Content-Length", String.valueOf(body.length()));
        if (request.method() == HttpMethod.HEAD) {
            response.end();
            return;
        }
        Promise<Void> held = gate;
        Future<Void> open = held != null ? held.future() : Future.succeededFuture();
        open.onComplete(v -> {
            if (cutsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                int cut = (int) Math.min(body.length() - 1, cutAfter);
                response.write(body.slice(0, cut)).onComplete(written -> request.connection().close());
            } else {
                response.end(body);
            }
        });
    }

    private static void error(HttpServerResponse response, int status, String code, String message) {
        response.setStatusCode(status).putHeader("X-Error-Code", code).putHeader("X-Error-Message", message)
                .putHeader("Content-Type", "application/json").end("{\"error\":\"" + message + "\"}");
    }

    static boolean isLfs(String file, byte[] bytes) {
        return file.endsWith(".safetensors") || file.endsWith(".bin") || bytes.length >= (1 << 20);
    }

    static String sha256(byte[] bytes) {
        return hex("SHA-256", bytes);
    }

    static String gitSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return hex("SHA-1", all);
    }

    private static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String randomHex(int length, long seed) {
        Random random = new Random(seed);
        StringBuilder out = new StringBuilder();
        while (out.length() < length) {
            out.append(Integer.toHexString(random.nextInt(16)));
        }
        return out.toString();
    }

    /** Random bytes, the same for the same seed. */
    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Override
    public void close() {
        try {
            hub.close().await(10, TimeUnit.SECONDS);
            if (cdn != null) {
                cdn.close().await(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the stand-in Hub", e);
        }
    }
}
