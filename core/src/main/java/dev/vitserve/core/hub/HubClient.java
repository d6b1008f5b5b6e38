package dev.vitserve.core.hub;

import dev.vitserve.core.hub.HubException.Kind;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Speaks the Hub's file protocol, as huggingface_hub does: a HEAD on the resolve URL for a file's
 * metadata (following only relative redirects, so a CDN redirect is read, not taken), then a GET of
 * the file from where the HEAD pointed, resumed with {@code Range} when part of it is already on disk.
 * The token goes to the Hub's host only, never to another host such as the CDN. Errors become
 * {@link HubException}s that say what to do.
 *
 * <p>Metadata requests go through the Vert.x web client. The body of a download is streamed with the
 * HTTP client beneath it (the same connection pool), because the web client's body codecs start writing
 * before the status is known, and an error page must never be appended to a half-downloaded blob.
 */
public final class HubClient {

    static final int MAX_REDIRECTS = 10;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final Vertx vertx;
    private final Context context;
    private final HubSettings settings;
    private final Optional<String> token;
    private final HttpClientAgent http;
    private final WebClient web;
    private final String userAgent;

    /**
     * A client of {@code settings.endpoint()}.
     *
     * @param token what to send as {@code Authorization: Bearer} to the Hub's host (see {@link HubSettings#token()})
     */
    public HubClient(Vertx vertx, HubSettings settings, Optional<String> token) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.settings = settings;
        this.token = token;
        String version = HubClient.class.getPackage().getImplementationVersion();
        this.userAgent = "vitserve/" + (version != null ? version : "dev") + "; java/"
                + System.getProperty("java.version");
        this.http = vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.metadataTimeout().toMillis()))
                .setMaxRedirects(0)
                .setDecompressionSupported(false));
        this.web = WebClient.wrap(http, new WebClientOptions().setFollowRedirects(false).setUserAgent(userAgent));
    }

    /** The resolve URL of a file, as {@code hf_hub_url} builds it. */
    public String resolveUrl(RepoId repo, String revision, String file) {
        StringBuilder path = new StringBuilder();
        for (String segment : file.split("/")) {
            path.append(path.length() > 0 ? "/" : "").append(encode(segment));
        }
        return settings.endpoint() + "/" + repo.namespace() + "/" + repo.name() + "/resolve/" + encode(revision)
                + "/" + path;
    }

    /**
     * HEADs the file: its commit, ETag, size and download location. Fails with {@link Kind#ENTRY_NOT_FOUND}
     * (carrying the commit from the answer's headers, if any) when the repository lacks the file.
     */
    public Future<FileMetadata> metadata(RepoId repo, String revision, String file) {
        return onContext(() -> head(repo, revision, file, resolveUrl(repo, revision, file), 0));
    }

    private Future<FileMetadata> head(RepoId repo, String revision, String file, String url, int hops) {
        var request = web.requestAbs(HttpMethod.HEAD, url)
                .followRedirects(false)
                .timeout(settings.metadataTimeout().toMillis())
                .putHeader("Accept-Encoding", "identity");
        token.ifPresent(value -> request.putHeader("Authorization", "Bearer " + value));
        return request.send()
                .recover(failure -> Future.failedFuture(unreachable(repo, file, url, failure)))
                .compose(response -> {
                    int status = response.statusCode();
                    String location = response.getHeader("Location");
                    if (status >= 300 && status < 400 && location != null && isRelative(location)) {
                        if (hops >= MAX_REDIRECTS) {
                            return Future.failedFuture(new HubException(Kind.NOT_A_HUB, settings.endpoint()
                                    + " redirects " + file + " of " + repo + " more than " + MAX_REDIRECTS
                                    + " times: check HF_ENDPOINT"));
                        }
                        // a renamed repository: follow within the Hub, token included
                        return head(repo, revision, file, URI.create(url).resolve(location).toString(), hops + 1);
                    }
                    if (status >= 400 || (status >= 300 && location == null)) {
                        return Future.failedFuture(httpError(repo, revision, file, url, status, response::getHeader));
                    }
                    return parseMetadata(repo, file, url, response);
                });
    }

    private Future<FileMetadata> parseMetadata(RepoId repo, String file, String url, HttpResponse<?> response) {
        String commit = response.getHeader("X-Repo-Commit");
        String linkedEtag = response.getHeader("X-Linked-Etag");
        String etag = normalizeEtag(linkedEtag != null ? linkedEtag : response.getHeader("ETag"));
        String sizeHeader = response.getHeader("X-Linked-Size") != null
                ? response.getHeader("X-Linked-Size") : response.getHeader("Content-Length");
        boolean sized = sizeHeader != null && sizeHeader.strip().matches("\\d{1,18}");
        String missing = commit == null ? "X-Repo-Commit" : etag == null || etag.isEmpty() ? "ETag"
                : !sized ? "size (X-Linked-Size or Content-Length)" : null;
        if (missing != null) {
            return Future.failedFuture(new HubException(Kind.NOT_A_HUB, settings.endpoint() + " answered for " + file
                    + " of " + repo + " without the Hub's " + missing + " header, so it does not look like the "
                    + "Hugging Face Hub: check HF_ENDPOINT and any proxy or firewall in between"));
        }
        if (!FileMetadata.isCommitHash(commit) || !etag.matches("[0-9A-Za-z_\\-][0-9A-Za-z._\\-]{0,127}")) {
            return Future.failedFuture(new HubException(Kind.NOT_A_HUB, settings.endpoint() + " answered for " + file
                    + " of " + repo + " with an unusable commit or ETag header: check HF_ENDPOINT"));
        }
        String location = response.getHeader("Location") != null
                ? URI.create(url).resolve(response.getHeader("Location")).toString() : url;
        return Future.succeededFuture(new FileMetadata(commit, etag, Long.parseLong(sizeHeader.strip()), location,
                linkedEtag != null));
    }

    /**
     * Downloads the file into {@code target}: keeps its first {@code resumeFrom} bytes and asks for the rest
     * with {@code Range} (starting over if the server ignores it), calls {@code progress} with each chunk's
     * length, and completes once everything the server sent is written and the file closed. A connection
     * lost mid-body fails with {@link Kind#INTERRUPTED}, leaving what arrived on disk to resume from.
     */
    public Future<Void> download(RepoId repo, String file, FileMetadata metadata, Path target, long resumeFrom,
                                 LongConsumer progress) {
        return onContext(() -> get(new Transfer(repo, file, target, metadata.size(), progress), metadata.location(),
                resumeFrom, 0));
    }

    /**
     * Runs the exchange on this client's own context. Called from a thread outside Vert.x, every future would
     * otherwise get a context of its own, and a response could end on one event loop before the code that sets
     * its handlers runs on another.
     */
    private <T> Future<T> onContext(Supplier<Future<T>> exchange) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> exchange.get().onComplete(result));
        return result.future();
    }

    /** One file being downloaded: where it goes, how big it is, whom to tell about each chunk. */
    private record Transfer(RepoId repo, String file, Path target, long size, LongConsumer progress) {
        String what() {
            return file + " of " + repo;
        }
    }

    private Future<Void> get(Transfer transfer, String url, long resumeFrom, int hops) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url)
                .setFollowRedirects(false)
                .setIdleTimeout(settings.downloadTimeout().toMillis())
                .putHeader("User-Agent", userAgent)
                .putHeader("Accept-Encoding", "identity");
        if (sameHost(url, settings.endpoint())) {
            // the CDN's links are signed; a token must not leave the Hub's host
            token.ifPresent(value -> options.putHeader("Authorization", "Bearer " + value));
        }
        if (resumeFrom > 0) {
            options.putHeader("Range", "bytes=" + resumeFrom + "-");
        }
        return http.request(options)
                .compose(HttpClientRequest::send)
                .recover(failure -> Future.failedFuture(unreachable(transfer.repo(), transfer.file(), url, failure)))
                .compose(response -> {
                    response.pause();
                    int status = response.statusCode();
                    String location = response.getHeader("Location");
                    if (status >= 300 && status < 400 && location != null) {
                        response.request().reset();
                        if (hops >= MAX_REDIRECTS) {
                            return Future.failedFuture(new HubException(Kind.NETWORK, "the download of "
                                    + transfer.what() + " redirects more than " + MAX_REDIRECTS + " times"));
                        }
                        return get(transfer, URI.create(url).resolve(location).toString(), resumeFrom, hops + 1);
                    }
                    if (status == 206) {
                        Matcher range = CONTENT_RANGE.matcher(String.valueOf(response.getHeader("Content-Range")));
                        if (!range.matches() || Long.parseLong(range.group(1)) != resumeFrom) {
                            response.request().reset();
                            return Future.failedFuture(new HubException(Kind.CORRUPTED, "the server resumed the "
                                    + "download of " + transfer.what() + " at the wrong place (Content-Range "
                                    + response.getHeader("Content-Range") + ", asked for byte " + resumeFrom + ")"));
                        }
                        return write(transfer, response, resumeFrom);
                    }
                    if (status == 200) {
                        // a server that ignores Range sends everything again: start the file over
                        return write(transfer, response, 0);
                    }
                    response.request().reset();
                    return Future.failedFuture(httpError(transfer.repo(), null, transfer.file(), url, status,
                            response::getHeader));
                });
    }

    private Future<Void> write(Transfer transfer, HttpClientResponse response, long position) {
        Promise<Void> done = Promise.promise();
        Promise<AsyncFile> opened = Promise.promise();
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicReference<Future<Void>> closing = new AtomicReference<>();
        Supplier<Future<Void>> closeOnce = () -> opened.future().transform(file -> {
            if (file.failed()) {
                return Future.succeededFuture();
            }
            if (closing.get() == null) {
                closing.set(file.result().close());
            }
            return closing.get();
        });
        Handler<Throwable> writeFailed = failure -> {
            stopped.set(true);
            if (done.tryFail(DiskErrors.writeFailure(transfer.target(), transfer.size() - position, failure))) {
                response.request().reset();
                closeOnce.get();
            }
        };
        // handlers first, while the response is paused: Vert.x takes them only until the response has ended,
        // which a small body may do before the file is open; events wait for resume()
        response.exceptionHandler(failure -> {
            // chunks still queued behind the failure are dropped: the file keeps a clean prefix to resume from
            stopped.set(true);
            closeOnce.get().onComplete(closed -> done.tryFail(new HubException(Kind.INTERRUPTED, "the download of "
                    + transfer.what() + " was interrupted: " + reason(failure), failure)));
        });
        response.handler(chunk -> opened.future().onSuccess(out -> {
            if (stopped.get()) {
                return;
            }
            out.write(chunk).onFailure(writeFailed);
            transfer.progress().accept(chunk.length());
            if (out.writeQueueFull()) {
                response.pause();
                out.drainHandler(v -> response.resume());
            }
        }));
        response.endHandler(v -> {
            if (!stopped.get()) {
                closeOnce.get().onSuccess(closed -> done.tryComplete()).onFailure(writeFailed);
            }
        });
        String target = transfer.target().toString();
        Future<Void> truncated = position == 0 ? vertx.fileSystem().exists(target)
                .compose(exists -> exists ? vertx.fileSystem().truncate(target, 0) : Future.succeededFuture())
                : Future.succeededFuture();
        truncated.compose(v -> vertx.fileSystem().open(target,
                        new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(false)))
                .onFailure(failure -> {
                    opened.tryFail(failure);
                    writeFailed.handle(failure);
                })
                .onSuccess(out -> {
                    out.setWritePos(position).exceptionHandler(writeFailed);
                    opened.complete(out);
                    response.resume();
                });
        return done.future();
    }

    /** Closes the connections. */
    public Future<Void> close() {
        web.close();
        return http.close();
    }

    // ---- errors -------------------------------------------------------------------------------------------

    private HubException unreachable(RepoId repo, String file, String url, Throwable failure) {
        if (failure instanceof HubException hub) {
            return hub;
        }
        URI uri = URI.create(url);
        String where = uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        return new HubException(Kind.NETWORK, "cannot reach " + (sameHost(url, settings.endpoint())
                ? "the Hub at " + settings.endpoint() : where) + " to fetch " + file + " of " + repo + " ("
                + reason(failure) + "): check the network, proxy and HF_ENDPOINT, or, if this model was downloaded "
                + "before, set HF_HUB_OFFLINE=1 to serve it from the cache (" + settings.cacheDir() + ")", failure);
    }

    private static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException) {
                return "host not found (DNS): " + t.getMessage();
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                String message = String.valueOf(t.getMessage());
                return message.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused" : message;
            }
            if (t instanceof TimeoutException || t.getClass().getSimpleName().contains("Timeout")) {
                return "timed out";
            }
            if (t instanceof SSLException) {
                return "TLS failed: " + t.getMessage();
            }
        }
        return failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
    }

    private HubException httpError(RepoId repo, String revision, String file, String url, int status,
                                   UnaryOperator<String> header) {
        String code = header.apply("X-Error-Code");
        String page = settings.endpoint() + "/" + repo;
        String commit = header.apply("X-Repo-Commit");
        boolean hub = sameHost(url, settings.endpoint());
        String at = revision != null ? " at revision " + revision : "";
        if ("RepoNotFound".equals(code) || (hub && status == 401 && code == null)) {
            return new HubException(Kind.REPO_NOT_FOUND, "repository " + repo + " was not found on "
                    + settings.endpoint() + " (HTTP " + status + "): check the id" + (token.isPresent()
                    ? ", and that the token in " + settings.tokenSource() + " may read it if it is private"
                    : ", and if it is private set HF_TOKEN to a token that may read it"));
        }
        if ("GatedRepo".equals(code)) {
            return new HubException(Kind.ACCESS, repo + " is a gated model (HTTP " + status + "): accept its terms "
                    + "on " + page + " while logged in, then set HF_TOKEN to a token of that account"
                    + (token.isPresent() ? " (the token in " + settings.tokenSource() + " has no access yet)" : ""));
        }
        if ("RevisionNotFound".equals(code)) {
            return new HubException(Kind.REVISION_NOT_FOUND, "revision '" + revision + "' does not exist in " + repo
                    + ": check --revision (a branch, a tag or a full commit hash)");
        }
        if ("EntryNotFound".equals(code) || (status == 404 && hub)) {
            return new HubException(Kind.ENTRY_NOT_FOUND, repo + " has no " + file + at + " (HTTP 404)",
                    FileMetadata.isCommitHash(String.valueOf(commit)) ? commit : null);
        }
        if (status == 401 || status == 403) {
            String host = URI.create(url).getHost();
            return new HubException(Kind.ACCESS, (hub ? settings.endpoint() : host) + " refused access to " + file
                    + " of " + repo + " (HTTP " + status + "): set HF_TOKEN to a token that may read it"
                    + (token.isPresent() ? " (the one in " + settings.tokenSource() + " may not)" : "")
                    + ", and if it is a gated model accept its terms on " + page + " first");
        }
        if (status == 429) {
            return new HubException(Kind.SERVER, "the Hub is rate-limiting requests (HTTP 429) while fetching " + file
                    + " of " + repo + ": wait a while and start again" + (token.isPresent() ? ""
                    : ", or set HF_TOKEN (logged-in users get higher limits)"));
        }
        if (status >= 500) {
            return new HubException(Kind.SERVER, (hub ? settings.endpoint() : URI.create(url).getHost())
                    + " answered HTTP " + status + " for " + file + " of " + repo + ": the Hub may be down, try again "
                    + "later, or set HF_HUB_OFFLINE=1 to serve a copy already in the cache");
        }
        String message = header.apply("X-Error-Message");
        return new HubException(hub ? Kind.OTHER : Kind.NETWORK, (hub ? settings.endpoint() : URI.create(url).getHost())
                + " answered HTTP " + status + (message != null ? " (" + message + ")" : "") + " for " + file + " of "
                + repo);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** Whether two URLs name the same host and port, the test huggingface_hub applies before sending a token. */
    static boolean sameHost(String a, String b) {
        try {
            URI x = URI.create(a);
            URI y = URI.create(b);
            return x.getHost() != null && x.getHost().equalsIgnoreCase(y.getHost()) && port(x) == port(y);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private static boolean isRelative(String location) {
        try {
            URI uri = URI.create(location);
            return uri.getScheme() == null && uri.getRawAuthority() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code W/"abc"} and {@code "abc"} both become {@code abc}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String value = etag.strip();
        if (value.startsWith("W/")) {
            value = value.substring(2);
        }
        return value.replaceAll("^\"|\"$", "");
    }

    /** Percent-encodes one path segment (everything but unreserved characters), as {@code quote(x, safe="")}. */
    static String encode(String segment) {
        StringBuilder out = new StringBuilder();
        for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
