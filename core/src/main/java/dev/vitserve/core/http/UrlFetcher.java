package dev.vitserve.core.http;

import dev.vitserve.core.memory.MemoryBudget;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Fetches images from URLs without becoming a way into the server's own network: http and
 * https only; the host is resolved once, every address checked with {@link AddressPolicy},
 * and the connection made to the very address that was checked (so DNS rebinding cannot
 * swap it); redirects are followed here, at most {@value #MAX_REDIRECTS}, each hop checked
 * the same way; the body is capped while it streams; connect and total timeouts apply. At most
 * {@code maxFetches} fetches run at once (past it, 503 with Retry-After), and the bytes of each are claimed from
 * its request's memory as they arrive (twice: the buffer they arrive in and the bytes taken from it), 503 when the
 * memory budget is full.
 */
public final class UrlFetcher {

    static final int MAX_REDIRECTS = 3;

    /**
     * How fetching is limited.
     *
     * @param enabled whether URLs are fetched at all
     * @param allowPrivate lift the address rule (intranets, tests)
     * @param allowedHosts when not empty, the only hosts fetched from ({@code *.example.com} for subdomains)
     * @param maxBytes largest body accepted
     * @param maxFetches most fetches at once ({@code --max-url-fetches}): past it, 503; the connection pool holds as
     *                   many per host, so fetches to a slow host never wait for one another
     */
    public record Settings(boolean enabled, boolean allowPrivate, List<String> allowedHosts, Duration connectTimeout,
                           Duration totalTimeout, long maxBytes, int maxFetches) {
        public Settings {
            allowedHosts = allowedHosts.stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).filter(h -> !h.isEmpty()).toList();
        }
    }

    /** Turns a host name into addresses: the JDK's resolver, or a stand-in in tests. */
    @FunctionalInterface
    interface HostResolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** The body of a fetched URL and where it finally came from. */
    public record FetchedImage(byte[] bytes, String finalUrl) {
    }

    private final Vertx vertx;
    private final Settings settings;
    private final HttpClientAgent client;
    private final HostResolver resolver;
    private final Function<InetAddress, Optional<String>> addressRule;
    private final MemoryBudget budget;
    private final AtomicInteger inProgress = new AtomicInteger();

    public UrlFetcher(Vertx vertx, Settings settings) {
        this(vertx, settings, new MemoryBudget(Long.MAX_VALUE / 4));
    }

    /** A fetcher whose fetched bytes are claimed from {@code budget}. */
    public UrlFetcher(Vertx vertx, Settings settings, MemoryBudget budget) {
        this(vertx, settings, InetAddress::getAllByName, AddressPolicy::refusal, budget);
    }

    /** With another resolver and address rule, for tests of rebinding and of redirect checks. */
    UrlFetcher(Vertx vertx, Settings settings, HostResolver resolver, Function<InetAddress, Optional<String>> addressRule) {
        this(vertx, settings, resolver, addressRule, new MemoryBudget(Long.MAX_VALUE / 4));
    }

    private UrlFetcher(Vertx vertx, Settings settings, HostResolver resolver,
                       Function<InetAddress, Optional<String>> addressRule, MemoryBudget budget) {
        this.budget = budget;
        this.vertx = vertx;
        this.settings = settings;
        this.resolver = resolver;
        this.addressRule = addressRule;
        this.client = vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis()))
                .setVerifyHost(true)
                .setMaxRedirects(0), new PoolOptions().setHttp1MaxSize(settings.maxFetches()));
    }

    /** Fetches the URL; failures are {@link ApiException}s a client can act on. */
    public Future<FetchedImage> fetch(String url) {
        MemoryBudget.Claim memory = budget.claim(MemoryBudget.Kind.REQUEST, 0);
        return fetch(url, memory).andThen(done -> memory.close());
    }

    /** The memory budget fetched bytes are claimed from. */
    MemoryBudget budget() {
        return budget;
    }

    /** Fetches in progress now. */
    public int inProgress() {
        return inProgress.get();
    }

    /**
     * Fetches the URL, claiming its bytes into {@code memory} (a request's, which gives them back when it ends) as
     * they arrive; failures are {@link ApiException}s a client can act on.
     */
    public Future<FetchedImage> fetch(String url, MemoryBudget.Claim memory) {
        if (!settings.enabled()) {
            return Future.failedFuture(new ApiException(403, "url_fetch_disabled",
                    "this server does not fetch image URLs; upload the image instead"));
        }
        if (inProgress.incrementAndGet() > settings.maxFetches()) {
            inProgress.decrementAndGet();
            return Future.failedFuture(ApiException.unavailable("overloaded", "the server is fetching "
                    + settings.maxFetches() + " image URLs already (--max-url-fetches); retry after the time in "
                    + "Retry-After", 1));
        }
        return fetchBounded(url, memory).andThen(done -> inProgress.decrementAndGet());
    }

    private Future<FetchedImage> fetchBounded(String url, MemoryBudget.Claim memory) {
        if (!settings.enabled()) {
            return Future.failedFuture(new ApiException(403, "url_fetch_disabled",
                    "this server does not fetch image URLs; upload the image instead"));
        }
        Target target;
        try {
            target = parse(url);
        } catch (ApiException e) {
            return Future.failedFuture(e);
        }
        long deadline = System.nanoTime() + settings.totalTimeout().toNanos();
        return fetch(target, MAX_REDIRECTS, deadline, memory);
    }

    private Future<FetchedImage> fetch(Target target, int redirectsLeft, long deadline, MemoryBudget.Claim memory) {
        return resolve(target.host()).compose(address -> get(target, address, deadline, memory)).compose(response -> {
            if (response.redirect() == null) {
                return Future.succeededFuture(new FetchedImage(response.body(), target.uri().toString()));
            }
            if (redirectsLeft == 0) {
                return Future.failedFuture(new ApiException(502, "url_fetch_failed",
                        "the URL redirects more than " + MAX_REDIRECTS + " times"));
            }
            Target next;
            try {
                next = parse(target.uri().resolve(response.redirect()).toString());
            } catch (IllegalArgumentException e) {
                return Future.failedFuture(new ApiException(502, "url_fetch_failed",
                        "the URL redirects to an invalid location: " + response.redirect()));
            }
            return fetch(next, redirectsLeft - 1, deadline, memory);
        });
    }

    /** Where one hop goes: scheme, host as written (brackets removed), port, path with query. */
    private record Target(URI uri, boolean https, String host, int port, String pathAndQuery) {
    }

    private Target parse(String url) {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException | NullPointerException e) {
            throw ApiException.badRequest("invalid_url", "'" + url + "' is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw ApiException.badRequest("invalid_url", "only http and https URLs can be fetched, not '" + url + "'");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw ApiException.badRequest("invalid_url", "the URL '" + url + "' has no host");
        }
        if (authority.contains("@")) {
            throw ApiException.badRequest("invalid_url", "URLs with a user name or password are not fetched");
        }
        // java.net.URI leaves getHost() null for hosts such as 127.1, so read the authority itself
        String host = authority;
        String port = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw ApiException.badRequest("invalid_url", "the URL '" + url + "' has an unclosed IPv6 address");
            }
            host = authority.substring(1, close);
            port = authority.length() > close + 1 && authority.charAt(close + 1) == ':' ? authority.substring(close + 2) : null;
        } else if (authority.lastIndexOf(':') >= 0) {
            host = authority.substring(0, authority.lastIndexOf(':'));
            port = authority.substring(authority.lastIndexOf(':') + 1);
        }
        boolean https = scheme.equals("https");
        int portNumber = https ? 443 : 80;
        if (port != null && !port.isEmpty()) {
            if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw ApiException.badRequest("invalid_url", "the URL '" + url + "' has an invalid port");
            }
            portNumber = Integer.parseInt(port);
        }
        if (host.isEmpty()) {
            throw ApiException.badRequest("invalid_url", "the URL '" + url + "' has no host");
        }
        if (!hostAllowed(host)) {
            throw new ApiException(403, "url_not_allowed", "this server fetches images only from "
                    + String.join(", ", settings.allowedHosts()) + ", not from '" + host + "'");
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        return new Target(uri, https, host, portNumber, path);
    }

    private boolean hostAllowed(String host) {
        if (settings.allowedHosts().isEmpty()) {
            return true;
        }
        String h = host.toLowerCase(Locale.ROOT);
        h = h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
        for (String allowed : settings.allowedHosts()) {
            if (allowed.startsWith("*.") ? h.endsWith(allowed.substring(1)) : h.equals(allowed)) {
                return true;
            }
        }
        return false;
    }

    /** Resolves the host once (blocking lookup on a worker thread) and checks every address. */
    private Future<InetAddress> resolve(String host) {
        return vertx.executeBlocking(() -> {
            String bare = host;
            Optional<InetAddress> numeric = AddressPolicy.numericIpv4(bare);
            InetAddress[] addresses;
            try {
                addresses = numeric.isPresent() ? new InetAddress[] {numeric.get()} : resolver.resolve(bare);
            } catch (UnknownHostException e) {
                throw new ApiException(502, "url_fetch_failed", "the host '" + bare + "' could not be resolved");
            }
            if (addresses.length == 0) {
                throw new ApiException(502, "url_fetch_failed", "the host '" + bare + "' has no address");
            }
            if (!settings.allowPrivate()) {
                for (InetAddress address : addresses) {
                    Optional<String> refusal = addressRule.apply(address);
                    if (refusal.isPresent()) {
                        throw new ApiException(403, "url_not_allowed", "the host '" + bare + "' resolves to "
                                + address.getHostAddress() + ", " + refusal.get()
                                + "; this server does not fetch from private networks");
                    }
                }
            }
            return addresses[0];
        }, false);
    }

    private record HopResult(byte[] body, String redirect) {
    }

    private Future<HopResult> get(Target target, InetAddress address, long deadline, MemoryBudget.Claim memory) {
        long remainingMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setServer(SocketAddress.inetSocketAddress(target.port(), address.getHostAddress()))
                .setHost(target.host())
                .setPort(target.port())
                .setSsl(target.https())
                .setURI(target.pathAndQuery())
                .setFollowRedirects(false)
                // the time to get a connection, from the pool or a new one (whose TCP connect has the client's own
                // timeout): bounded by what is left of the fetch, not by the connect timeout
                .setConnectTimeout(remainingMs)
                .putHeader("Accept", "image/*,*/*;q=0.8")
                .putHeader("User-Agent", "vitserve");

        Promise<HopResult> result = Promise.promise();
        AtomicReference<HttpClientRequest> request = new AtomicReference<>();
        long timer = vertx.setTimer(remainingMs, id -> {
            if (result.tryFail(new ApiException(504, "url_timeout", "fetching the URL took longer than "
                    + settings.totalTimeout().toMillis() + " ms")) && request.get() != null) {
                request.get().reset();
            }
        });
        client.request(options)
                .compose(req -> {
                    request.set(req);
                    return req.send();
                })
                .onSuccess(response -> read(target, response, request.get(), result, memory))
                .onFailure(failure -> result.tryFail(networkFailure(target, failure)));
        return result.future().andThen(done -> vertx.cancelTimer(timer));
    }

    private void read(Target target, HttpClientResponse response, HttpClientRequest request, Promise<HopResult> result,
                      MemoryBudget.Claim memory) {
        // set first: resetting the request below reports a stream reset here, after the result is settled
        response.exceptionHandler(failure -> result.tryFail(networkFailure(target, failure)));
        int status = response.statusCode();
        if (status >= 300 && status < 400 && response.getHeader("Location") != null) {
            result.tryComplete(new HopResult(null, response.getHeader("Location")));
            request.reset();
            return;
        }
        if (status < 200 || status >= 300) {
            result.tryFail(new ApiException(502, "url_fetch_failed", "the URL answered HTTP " + status
                    + (response.statusMessage() != null ? " " + response.statusMessage() : "")));
            request.reset();
            return;
        }
        String length = response.getHeader("Content-Length");
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > settings.maxBytes()) {
            result.tryFail(tooLarge());
            request.reset();
            return;
        }
        Buffer body = Buffer.buffer();
        response.handler(chunk -> {
            if (body.length() + chunk.length() > settings.maxBytes()) {
                if (result.tryFail(tooLarge())) {
                    request.reset();
                }
                return;
            }
            if (!memory.grow(2L * chunk.length())) {
                if (result.tryFail(ApiException.unavailable("overloaded", budget.refusal("the image at the URL",
                        2L * chunk.length()), 1))) {
                    request.reset();
                }
                return;
            }
            body.appendBuffer(chunk);
        });
        response.endHandler(done -> result.tryComplete(new HopResult(body.getBytes(), null)));
    }

    private ApiException tooLarge() {
        return ApiException.tooLarge("url_too_large", "the image at the URL is larger than "
                + dev.vitserve.core.config.ByteSizeConverter.format(settings.maxBytes()));
    }

    private static ApiException networkFailure(Target target, Throwable failure) {
        if (failure instanceof ApiException api) {
            return api;
        }
        if (failure instanceof TimeoutException || failure instanceof io.netty.channel.ConnectTimeoutException) {
            return new ApiException(504, "url_timeout", "connecting to " + target.host() + " timed out");
        }
        String reason = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
        return new ApiException(502, "url_fetch_failed", "could not fetch the URL from " + target.host() + ": " + reason);
    }

    /** Closes the HTTP client. */
    public Future<Void> close() {
        return client.close();
    }
}
