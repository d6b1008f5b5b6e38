package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /openapi.json} describes the server as it is: every route of the router with its
 * methods, and on each operation every error status it can answer, as README's error table
 * documents them.
 */
@ExtendWith(VertxExtension.class)
class OpenApiTest {

    /**
     * The error statuses each of vitserve's own operations can answer; any other operation answering
     * vitserve's JSON errors describes at least 403 (a refused origin) and 405. The protocol routes
     * (Hugging Face, Open Inference Protocol) answer their own errors, as their specifications say.
     */
    private static final Map<String, Set<Integer>> ERRORS = Map.of(
            "post /v1/classify", Set.of(400, 401, 403, 405, 413, 415, 500, 502, 503, 504),
            "get /predict_image_class", Set.of(400, 401, 403, 405, 413, 415, 500, 502, 503, 504),
            "post /predict_image_class", Set.of(400, 401, 403, 405, 413, 415, 500, 503),
            "get /v1/models", Set.of(401, 403, 405, 503),
            "get /v1/limits", Set.of(401, 403, 405),
            "get /health/ready", Set.of(403, 405, 503),
            "get /", Set.of(403, 404),
            "post /", Set.of(400, 401, 404, 413, 415, 502, 503, 504));

    @Test
    void everyRouteAndEveryDocumentedErrorIsDescribed(Vertx vertx) throws Exception {
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--host", "127.0.0.1", "--port", "0");
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ApiVerticle api = new ApiVerticle(config, new ServerState(), null, metrics,
                new ListenerTransport(vertx, config, metrics, null));
        vertx.deployVerticle(api).await(30, TimeUnit.SECONDS);
        WebClient client = WebClient.create(vertx);
        JsonObject openApi = client.get(api.actualPort(), "127.0.0.1", "/openapi.json").send()
                .await(30, TimeUnit.SECONDS).bodyAsJsonObject();
        JsonObject paths = openApi.getJsonObject("paths");

        int routes = 0;
        for (Route route : api.routes()) {
            if (route.getPath() == null && !route.isRegexPath()) {
                continue; // headers and CORS for every request: not an operation
            }
            routes++;
            String path = documentedPath(paths, route);
            JsonObject item = paths.getJsonObject(path);
            for (HttpMethod method : route.methods()) {
                if (!method.equals(HttpMethod.HEAD)) {
                    assertTrue(item.containsKey(method.name().toLowerCase(Locale.ROOT)),
                            method + " " + path + " is in openapi.json");
                }
            }
        }
        assertTrue(routes >= 10, "the router's routes were seen: " + routes);

        Set<Integer> described = new TreeSet<>();
        for (String path : paths.fieldNames()) {
            for (String method : paths.getJsonObject(path).fieldNames()) {
                JsonObject responses = paths.getJsonObject(path).getJsonObject(method).getJsonObject("responses");
                Set<Integer> statuses = new TreeSet<>();
                for (String status : responses.fieldNames()) {
                    statuses.add(Integer.parseInt(status));
                    JsonObject response = resolve(openApi, responses.getJsonObject(status));
                    assertFalse(response.getString("description", "").isBlank(), method + " " + path + " " + status);
                }
                Set<Integer> expected = ERRORS.get(method + " " + path);
                if (expected == null && usesVitserveErrors(openApi, responses)) {
                    expected = Set.of(403, 405);
                }
                if (expected != null) {
                    assertTrue(statuses.containsAll(expected), method + " " + path + " describes " + expected
                            + ", not only " + statuses);
                }
                statuses.stream().filter(s -> s >= 400).forEach(described::add);
            }
        }
        List<ErrorRow> documented = readmeErrors();
        Set<Integer> expected = new TreeSet<>(Set.of(500));
        documented.forEach(row -> expected.addAll(row.statuses()));
        assertEquals(expected, described, "openapi.json describes the error statuses of README's table (and 500)");
        for (ErrorRow row : documented) {
            StringBuilder descriptions = new StringBuilder();
            for (int status : row.statuses()) {
                descriptions.append(describedAs(openApi, status)).append('\n');
            }
            for (String code : row.codes()) {
                assertTrue(descriptions.toString().contains(code),
                        row.statuses() + "' description names the code " + code + ": " + descriptions);
            }
        }
    }

    /**
     * The path of openapi.json that describes the route: its own path, the path a regex route is
     * named by, or the first path whose example (each {@code {name}} filled in) the regex matches
     * ("/" for the page).
     */
    private static String documentedPath(JsonObject paths, Route route) {
        if (!route.isRegexPath()) {
            assertTrue(paths.containsKey(route.getPath()), "the route " + route.getPath() + " is in openapi.json");
            return route.getPath();
        }
        if (paths.containsKey(route.getName())) {
            return route.getName(); // a regex route named by the path that documents it
        }
        Pattern regex = Pattern.compile(route.getName().equals("page") ? ApiVerticle.PAGE_PATHS : route.getName());
        for (String path : paths.fieldNames()) {
            if (regex.matcher(path.replaceAll("\\{(\\w+)\\}", "$1")).matches()) {
                return path;
            }
        }
        throw new AssertionError("no path of openapi.json matches the route " + route.getName());
    }

    /** Whether an operation answers vitserve's JSON errors (the protocol routes have their own). */
    private static boolean usesVitserveErrors(JsonObject openApi, JsonObject responses) {
        return responses.fieldNames().stream().map(status -> resolve(openApi, responses.getJsonObject(status)))
                .anyMatch(OpenApiTest::isError);
    }

    private static boolean isError(JsonObject response) {
        JsonObject json = response.getJsonObject("content", new JsonObject()).getJsonObject("application/json");
        return json != null && "#/components/schemas/Error".equals(json.getJsonObject("schema", new JsonObject()).getString("$ref"));
    }

    /** The one description every operation gives a status as an error (/health/ready's 503 is a health answer). */
    private static String describedAs(JsonObject openApi, int status) {
        Set<String> descriptions = new TreeSet<>();
        JsonObject paths = openApi.getJsonObject("paths");
        for (String path : paths.fieldNames()) {
            for (String method : paths.getJsonObject(path).fieldNames()) {
                JsonObject responses = paths.getJsonObject(path).getJsonObject(method).getJsonObject("responses");
                JsonObject response = responses.containsKey(String.valueOf(status))
                        ? resolve(openApi, responses.getJsonObject(String.valueOf(status))) : null;
                if (response != null && isError(response)) {
                    descriptions.add(response.getString("description"));
                }
            }
        }
        assertEquals(1, descriptions.size(), status + " is described one way: " + descriptions);
        return descriptions.iterator().next();
    }

    private static JsonObject resolve(JsonObject openApi, JsonObject response) {
        String ref = response.getString("$ref");
        if (ref == null) {
            return response;
        }
        String name = ref.substring(ref.lastIndexOf('/') + 1);
        JsonObject found = openApi.getJsonObject("components").getJsonObject("responses").getJsonObject(name);
        assertNotNull(found, ref);
        return found;
    }

    /** A row of README's "Errors" table: its statuses and the error codes it lists. */
    private record ErrorRow(List<Integer> statuses, List<String> codes) {
    }

    private static List<ErrorRow> readmeErrors() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("### Errors");
        assertTrue(start >= 0, "README has an Errors section");
        int end = readme.indexOf("\n#", start + 1);
        List<ErrorRow> rows = new ArrayList<>();
        Matcher row = Pattern.compile("(?m)^\\| ([0-9, ]+) \\|.*\\|([^|]*)\\|$").matcher(readme.substring(start, end));
        Pattern code = Pattern.compile("`([a-z_]+)`");
        while (row.find()) {
            rows.add(new ErrorRow(Arrays.stream(row.group(1).split(",")).map(s -> Integer.parseInt(s.strip())).toList(),
                    code.matcher(row.group(2)).results().map(m -> m.group(1)).toList()));
        }
        assertTrue(rows.size() >= 8, "README's error table was read: " + rows);
        return rows;
    }
}
