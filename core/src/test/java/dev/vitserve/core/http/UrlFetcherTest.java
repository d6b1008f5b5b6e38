package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.ImageHost;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each URL rule, against real servers on loopback: an image host on 127.0.0.1 and a canary on
 * 127.0.0.2 that plays an internal address (the rule under test refuses it) and must see no request.
 */
@ExtendWith(VertxExtension.class)
class UrlFetcherTest {

    static ImageHost host;
    static ImageHost canary;
    static Vertx vertx;
    final Map<String, AtomicInteger> lookups = new ConcurrentHashMap<>();

    @BeforeAll
    static void start(Vertx v) throws Exception {
        vertx = v;
        host = ImageHost.start(vertx, "127.0.0.1");
        canary = ImageHost.start(vertx, "127.0.0.2");
    }

    @AfterAll
    static void stop() throws Exception {
        host.close();
        canary.close();
    }

    @BeforeEach
    void resetCanary() {
        canary.requests.set(0);
        lookups.clear();
    }

    /** Refuses only the canary's address, so the image host plays a public server. */
    static Optional<String> canaryIsInternal(InetAddress address) {
        return address.getHostAddress().equals("127.0.0.2") ? Optional.of("an internal address") : Optional.empty();
    }

    /** Test names: public.test and *.allowed.test are the image host, internal.test is the canary,
     *  rebind.test answers the image host first and the canary afterwards (DNS rebinding). */
    InetAddress[] resolve(String name) throws UnknownHostException {
        int call = lookups.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
        String address = switch (name) {
            case "public.test", "img.allowed.test", "allowed.test" -> "127.0.0.1";
            case "internal.test" -> "127.0.0.2";
            case "rebind.test" -> call == 1 ? "127.0.0.1" : "127.0.0.2";
            case "both.test" -> null;
            default -> throw new UnknownHostException(name);
        };
        if (address == null) {
            return new InetAddress[] {InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.2")};
        }
        return new InetAddress[] {InetAddress.getByName(address)};
    }

    UrlFetcher fetcher(boolean enabled, List<String> allowedHosts) {
        return new UrlFetcher(vertx, new UrlFetcher.Settings(enabled, false, allowedHosts, Duration.ofSeconds(2),
                Duration.ofSeconds(5), 1 << 20, 16), this::resolve, UrlFetcherTest::canaryIsInternal);
    }

    static ApiException failure(Future<?> future) throws Exception {
        Throwable failure = future.transform(Future::succeededFuture).await(10, TimeUnit.SECONDS).cause();
        return assertInstanceOf(ApiException.class, failure);
    }

    static String at(ImageHost server, String name, String path) {
        return "http://" + name + ":" + server.port() + path;
    }

    @Test
    void aPublicHostIsFetchedAndTheBodyDecidesNotTheContentType() throws Exception {
        UrlFetcher.FetchedImage image = fetcher(true, List.of()).fetch(at(host, "public.test", "/images/chelsea.png"))
                .await(10, TimeUnit.SECONDS);
        assertArrayEquals(Fixtures.bytes(Fixtures.image("chelsea.png")), image.bytes());
    }

    @Test
    void anInternalAddressIsRefusedBeforeAnyRequest() throws Exception {
        ApiException e = failure(fetcher(true, List.of()).fetch(at(canary, "internal.test", "/images/chelsea.png")));
        assertEquals(403, e.status());
        assertEquals("url_not_allowed", e.code());
        assertEquals(0, canary.requests.get());
    }

    @Test
    void aHostWithAnyInternalAddressIsRefused() throws Exception {
        assertEquals("url_not_allowed", failure(fetcher(true, List.of()).fetch(at(canary, "both.test", "/x"))).code());
        assertEquals(0, canary.requests.get());
    }

    @Test
    void everyRedirectHopIsCheckedTheSameWay() throws Exception {
        String internal = at(canary, "internal.test", "/images/chelsea.png");
        ApiException e = failure(fetcher(true, List.of()).fetch(at(host, "public.test", "/to?location=" + internal)));
        assertEquals("url_not_allowed", e.code());
        ApiException numeric = failure(fetcher(true, List.of()).fetch(
                at(host, "public.test", "/to?location=http://127.0.0.2:" + canary.port() + "/images/chelsea.png")));
        assertEquals("url_not_allowed", numeric.code());
        ApiException scheme = failure(fetcher(true, List.of()).fetch(at(host, "public.test", "/to?location=file:///etc/passwd")));
        assertEquals("invalid_url", scheme.code());
        assertEquals(0, canary.requests.get());
    }

    @Test
    void dnsRebindingCannotSwapTheCheckedAddress() throws Exception {
        UrlFetcher.FetchedImage image = fetcher(true, List.of()).fetch(at(host, "rebind.test", "/images/chelsea.png"))
                .await(10, TimeUnit.SECONDS);
        assertArrayEquals(Fixtures.bytes(Fixtures.image("chelsea.png")), image.bytes());
        assertEquals(1, lookups.get("rebind.test").get(), "the host is resolved once");
        assertEquals(0, canary.requests.get());
    }

    @Test
    void anAllowListLimitsHostsIncludingRedirectTargets() throws Exception {
        UrlFetcher listed = fetcher(true, List.of("*.allowed.test", "public.test"));
        assertTrue(listed.fetch(at(host, "img.allowed.test", "/images/chelsea.png")).await(10, TimeUnit.SECONDS).bytes().length > 0);
        ApiException other = failure(listed.fetch(at(canary, "internal.test", "/images/chelsea.png")));
        assertEquals("url_not_allowed", other.code());
        assertTrue(other.getMessage().contains("only from"), other.getMessage());
        assertEquals("url_not_allowed", failure(listed.fetch(at(host, "allowed.test.evil", "/x"))).code());
        assertEquals("url_not_allowed", failure(listed.fetch(at(host, "public.test",
                "/to?location=" + at(host, "elsewhere.test", "/images/chelsea.png")))).code());
        assertEquals(null, lookups.get("internal.test"), "a host off the list is not even resolved");
        assertEquals(0, canary.requests.get());
    }

    @Test
    void fetchingCanBeTurnedOff() throws Exception {
        ApiException e = failure(fetcher(false, List.of()).fetch(at(host, "public.test", "/images/chelsea.png")));
        assertEquals(403, e.status());
        assertEquals("url_fetch_disabled", e.code());
        assertTrue(lookups.isEmpty());
    }

    @Test
    void theByteCapHoldsWhileStreamingAndForDeclaredLengths() throws Exception {
        assertEquals("url_too_large", failure(fetcher(true, List.of()).fetch(at(host, "public.test", "/huge"))).code());
        assertEquals("url_too_large", failure(fetcher(true, List.of()).fetch(at(host, "public.test", "/declared-huge"))).code());
    }

    @Test
    void slowFetchesToAHostDoNotHoldUpTheNextOne() throws Exception {
        UrlFetcher fetcher = fetcher(true, List.of());
        List<Future<UrlFetcher.FetchedImage>> slow = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            slow.add(fetcher.fetch(at(host, "public.test", "/slow")));
        }
        Thread.sleep(300);
        long start = System.nanoTime();
        // with a pool of 5 per host this waited for a connection and failed at the 2 s connect timeout
        UrlFetcher.FetchedImage image = fetcher.fetch(at(host, "public.test", "/images/chelsea.png")).await(10, TimeUnit.SECONDS);
        System.out.printf("a fetch beside 8 slow ones to the same host: %.0f ms%n", (System.nanoTime() - start) / 1e6);
        assertArrayEquals(Fixtures.bytes(Fixtures.image("chelsea.png")), image.bytes());
        for (Future<UrlFetcher.FetchedImage> each : slow) {
            assertEquals("url_timeout", failure(each).code(), "the slow ones time out on their own 5 s deadline");
        }
    }
}
