package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The management listener's {@code /openapi.json} describes it as it is: every route of its router
 * with its methods, the admin key on every operation but the document itself and the health probes, and every error
 * code of README's table for the management API.
 */
@ExtendWith(VertxExtension.class)
class AdminOpenApiTest {

    /** The routes a prober or tritonclient reaches without the admin key. */
    private static final java.util.Set<String> KEY_FREE = java.util.Set.of("/openapi.json", "/v2/health/live", "/v2/health/ready");

    @Test
    void everyRouteAndEveryDocumentedErrorIsDescribed(Vertx vertx) throws Exception {
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--host", "127.0.0.1", "--port", "0",
                "--admin-port", "0", "--admin-api-key", "admin-key-0123456789");
        AdminVerticle admin = new AdminVerticle(config, new ServerState(), null,
                new ListenerTransport(vertx, config, new SimpleMeterRegistry(), null));
        vertx.deployVerticle(admin).await(30, TimeUnit.SECONDS);
        WebClient client = WebClient.create(vertx);
        HttpResponse<?> served = client.get(admin.actualPort(), "127.0.0.1", "/openapi.json").send()
                .await(30, TimeUnit.SECONDS);
        assertEquals(200, served.statusCode(), "the document needs no key");
        JsonObject openApi = served.bodyAsJsonObject();
        JsonObject paths = openApi.getJsonObject("paths");

        int routes = 0;
        for (Route route : admin.routes()) {
            if (route.getPath() == null && !route.isRegexPath()) {
                continue; // error handlers for every request: not an operation
            }
            routes++;
            String path = documentedPath(paths, route);
            for (HttpMethod method : route.methods()) {
                JsonObject operation = paths.getJsonObject(path).getJsonObject(method.name().toLowerCase(Locale.ROOT));
                assertTrue(operation != null, method + " " + path + " is in the management API's openapi.json");
                if (KEY_FREE.contains(path)) {
                    assertEquals(0, operation.getJsonArray("security").size(), method + " " + path + " says it needs no key");
                    int status = client.get(admin.actualPort(), "127.0.0.1", path).send()
                            .await(30, TimeUnit.SECONDS).statusCode();
                    assertTrue(status != 401 && operation.getJsonObject("responses").containsKey(String.valueOf(status)),
                            path + " answers without the key, as described: " + status);
                } else {
                    assertTrue(operation.getJsonObject("responses").containsKey("401"), method + " " + path + " describes 401");
                    assertFalse(operation.containsKey("security"), method + " " + path + " needs the key");
                }
            }
        }
        assertEquals(11, routes, "the management routes were seen");

        String text = openApi.encode();
        for (String code : readmeCodes()) {
            assertTrue(text.contains(code), "the management API's openapi.json names the error code " + code);
        }
        client.close();
    }

    /** The path that describes the route: its own, or the one whose example (each {name} filled in) its regex matches. */
    private static String documentedPath(JsonObject paths, Route route) {
        if (!route.isRegexPath()) {
            assertTrue(paths.containsKey(route.getPath()), route.getPath() + " is in openapi.json");
            return route.getPath();
        }
        Pattern regex = Pattern.compile(route.getName());
        for (String path : paths.fieldNames()) {
            if (regex.matcher(path.replace("{name}", "shape-a")).matches()) {
                return path;
            }
        }
        throw new AssertionError("no path of the management API's openapi.json matches the route " + route.getName());
    }

    /** The error codes of README's table that follows "### Loading and unloading models while the server runs". */
    private static java.util.List<String> readmeCodes() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String section = readme.substring(readme.indexOf("### Loading and unloading models while the server runs"));
        section = section.substring(section.indexOf("| status | code | when |"), section.indexOf("\n\n", section.indexOf("| status | code | when |")));
        java.util.List<String> codes = new java.util.ArrayList<>();
        Matcher code = Pattern.compile("`([a-z_]+)`").matcher(section);
        while (code.find()) {
            codes.add(code.group(1));
        }
        assertTrue(codes.size() >= 8, "README's table was read: " + codes);
        return codes;
    }
}
