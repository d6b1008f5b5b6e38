package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.TemporaryFolder;
import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Drives the web page in a real, headless Chromium against the real server running the tiny ViT, a second
 * classifier and the tiny CLIP (zero-shot).
 * Uses only the browser and driver that Debian installs ({@code /usr/bin/chromium},
 * {@code /usr/bin/chromedriver}); Selenium Manager is never asked to download anything.
 * Skipped when either is missing.
 */
class WebPageBrowserTest {

    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** What the page shows as a score: "93.2 %", or "< 0.1 %" for a tiny one. */
    private static final Pattern PERCENT = Pattern.compile("(< )?(\\d{1,3}\\.\\d) %");
    /** With -Dvitserve.screenshots=DIR, the tests save what the browser showed there, to look at. */
    private static final String SCREENSHOTS = System.getProperty("vitserve.screenshots");

    /**
     * Selenium looks for its DevTools support of this Chromium version and warns at each browser
     * start when it has none; the test does not use DevTools.
     */
    private static final java.util.logging.Logger DEVTOOLS = java.util.logging.Logger.getLogger("org.openqa.selenium.devtools");

    static {
        DEVTOOLS.setLevel(Level.SEVERE);
    }

    private static Vertx vertx;
    private static VitServer server;
    private static String pageUrl;
    private static TemporaryFolder secondModel;

    private final List<WebDriver> drivers = new ArrayList<>();
    private final List<TemporaryFolder> profiles = new ArrayList<>();

    @BeforeAll
    static void startServer() throws Exception {
        assumeTrue(CHROMIUM.canExecute(),
                "no Chromium at /usr/bin/chromium (apt-get install chromium): browser test skipped");
        assumeTrue(CHROMEDRIVER.canExecute(),
                "no chromedriver at /usr/bin/chromedriver (apt-get install chromium-driver): browser test skipped");
        vertx = Vertx.vertx();
        // the second model without its exported network, so that it gives embeddings too
        secondModel = TemporaryFolder.create("vitserve-browser-model-");
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(secondModel.path().resolve(file), Fixtures.model("vit-shape-a").resolve(file));
        }
        server = VitServer.start(vertx, ServerConfig.fromArgs(Map.of(),
                "--model", Fixtures.tinyVit().toString(), "--model", "shapes/a=" + secondModel.path(),
                "--model", "tiny-clip=" + Fixtures.tinyClip(), "--backend", "onnx",
                "--host", "127.0.0.1", "--port", "0", "--max-body-size", "3MB")).await();
        pageUrl = "http://127.0.0.1:" + server.port() + "/";
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) {
            server.close().await();
        }
        if (secondModel != null) {
            secondModel.close();
        }
        if (vertx != null) {
            vertx.close().await();
        }
    }

    @AfterEach
    void closeBrowsers() {
        for (WebDriver driver : drivers) {
            try {
                driver.quit();
            } catch (RuntimeException e) {
                // the browser is already gone; nothing left to close
            }
        }
        for (TemporaryFolder profile : profiles) {
            try {
                profile.close();
            } catch (IOException e) {
                // a temporary folder left behind is harmless
            }
        }
    }

    @Test
    void classifiesAnUploadedPhoto() {
        WebDriver driver = browser(1280, 900);
        driver.get(pageUrl);
        WebDriverWait wait = new WebDriverWait(driver, WAIT);

        WebElement backend = wait.until(d -> first(d, "#model-info [data-field=backend]"));
        assertEquals("onnx", backend.getText().lines().findFirst().orElse(""),
                "model info: " + driver.findElement(By.id("model-info")).getText());

        assertModelPanelLinesUp(driver, "1280 px");
        assertTrue(driver.findElement(By.id("model-description")).getText().contains("answers mean nothing"),
                "the quick-start model's card says what it is: " + driver.findElement(By.id("model-info")).getText());

        WebElement hint = driver.findElement(By.id("drop-hint"));
        wait.until(d -> hint.getText().contains("up to 3 MB"));
        assertTrue(driver.findElement(By.id("paste-hint")).isDisplayed(), "a desktop gets the Ctrl+V hint");
        assertFalse(driver.findElement(By.id("tap-hint")).isDisplayed(), "a desktop gets no tap hint");

        WebElement url = driver.findElement(By.id("url-input"));
        url.sendKeys("https://example.com/earlier.jpg");
        upload(driver, Fixtures.image("chelsea.png"));
        List<WebElement> predictions = waitForPredictions(driver);
        assertEquals("", url.getAttribute("value"), "the URL field is cleared when a file is chosen");
        screenshot(driver, "desktop-result");

        JsonNode expected = Fixtures.reference().get("images").get("chelsea.png").get("top");
        assertEquals(expected.get(0).get("label").asText(), labelOf(predictions.get(0)), "top label");
        assertEquals(5, predictions.size(), "predictions shown");
        for (int i = 0; i < predictions.size(); i++) {
            assertEquals(expected.get(i).get("label").asText(), labelOf(predictions.get(i)), "label " + i);
            String score = predictions.get(i).findElement(By.className("score")).getText();
            Matcher percent = PERCENT.matcher(score);
            assertTrue(percent.matches(), "score shown as a percentage: '" + score + "'");
            double expectedPercent = expected.get(i).get("score").asDouble() * 100;
            if (percent.group(1) == null) {
                assertEquals(expectedPercent, Double.parseDouble(percent.group(2)), 0.11, "score " + i);
            } else {
                assertTrue(expectedPercent < 0.1, "score " + i + " shown as tiny: " + expectedPercent);
            }
        }

        WebElement preview = driver.findElement(By.id("preview"));
        assertTrue(preview.isDisplayed(), "the photo is previewed");
        JavascriptExecutor js = (JavascriptExecutor) driver;
        assertEquals(0L, ((Number) js.executeScript("return window.scrollY")).longValue(), "the page did not scroll");
        long height = ((Number) js.executeScript("return window.innerHeight")).longValue();
        for (WebElement prediction : predictions) {
            double bottom = ((Number) js.executeScript("return arguments[0].getBoundingClientRect().bottom", prediction))
                    .doubleValue();
            assertTrue(bottom <= height, "prediction '" + labelOf(prediction) + "' shows without scrolling: bottom "
                    + bottom + " > window height " + height);
        }

        WebElement timings = driver.findElement(By.id("timings"));
        assertTrue(timings.isDisplayed(), "timings shown");
        for (String step : List.of("Decode", "Preprocess", "Queue", "Inference", "Other", "Total")) {
            assertTrue(timings.getText().contains(step), "timings show " + step + ": " + timings.getText());
        }
        double parts = 0;
        for (String step : List.of("decode", "preprocess", "queue", "inference", "other")) {
            parts += millis(driver, step);
        }
        assertEquals(millis(driver, "total"), parts, 0.3, "the steps and other add up to the total");
        assertTrue(timings.getText().contains("Other is the rest of the total"), "other is explained: " + timings.getText());
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "no error shown");
        assertNoPolicyViolations(driver);
        js.executeScript("arguments[0].scrollIntoView()", timings);
        screenshot(driver, "desktop-timings");
    }

    @Test
    void theModelPanelLinesUpOnADesktopScreen() {
        for (int width : new int[] {1280, 900}) {
            WebDriver driver = browser(width, 800);
            driver.get(pageUrl);
            new WebDriverWait(driver, WAIT).until(d -> first(d, "#model-description"));
            assertModelPanelLinesUp(driver, width + " px");
            WebElement about = driver.findElement(By.id("model-description"));
            assertTrue(about.isDisplayed() && about.getText().contains("random-weight"), "the description shows: " + about.getText());
            screenshot(driver, "desktop-model-panel-" + width);
            assertNoPolicyViolations(driver);
        }
    }

    @Test
    void picksTheSecondModelClassifiesAPhotoAndShowsItsEmbedding() {
        WebDriver driver = browser(1280, 900);
        driver.get(pageUrl);
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        Select picker = wait.until(d -> {
            Select select = new Select(d.findElement(By.id("model-select")));
            return select.getOptions().size() == 3 ? select : null;
        });
        assertEquals("tiny-vit", picker.getFirstSelectedOption().getAttribute("value"), "the default model is chosen");
        upload(driver, Fixtures.image("chelsea.png"));
        assertPredictions(driver, "tiny-vit", Fixtures.reference(), "the default model");

        // another model: the shown photo is classified again by it, without choosing it again
        picker.selectByValue("shapes/a");
        wait.until(d -> d.findElement(By.id("model-info")).getText().contains("64 × 64"));
        assertTrue(driver.findElement(By.id("model-info")).getText().contains("7 labels · 48-value embedding"),
                driver.findElement(By.id("model-info")).getText());
        assertTrue(driver.findElements(By.id("model-description")).isEmpty(), "a folder without a card has no description");
        assertPredictions(driver, "shapes/a", Fixtures.reference("vit-shape-a"), "after switching to the second model");
        assertTrue(driver.findElement(By.id("preview")).isDisplayed(), "the photo is still shown");
        screenshot(driver, "desktop-switched-model");

        // embedding mode embeds the shown photo at once, and another model embeds it again
        driver.findElement(By.cssSelector("input[name=task][value=embed]")).click();
        assertEquals("Embed", driver.findElement(By.id("url-submit-text")).getText());
        wait.until(d -> first(d, "#embedding-size") != null
                && d.findElement(By.id("embedding-size")).getText().equals("48 values, unit length"));
        assertTrue(driver.findElement(By.id("run-info")).getText().startsWith("Answered by shapes/a"),
                driver.findElement(By.id("run-info")).getText());
        picker.selectByValue("tiny-vit");
        wait.withMessage(() -> "not embedded again by tiny-vit: " + driver.findElement(By.id("result-card")).getText())
                .until(d -> first(d, "#run-info") != null && first(d, "#embedding-size") != null
                        && d.findElement(By.id("run-info")).getText().startsWith("Answered by tiny-vit")
                        && d.findElement(By.id("embedding-size")).getText().equals("32 values, unit length"));
        String values = driver.findElement(By.id("embedding-values")).getText();
        assertTrue(values.matches("\\[(-?\\d\\.\\d{4}, ){8}…]"), "the first 8 values: " + values);
        driver.findElement(By.id("copy-embedding")).click();
        wait.until(d -> !d.findElement(By.cssSelector("#results .copy-status")).getText().isEmpty());
        screenshot(driver, "desktop-embedding");
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "no error shown");
        assertNoPolicyViolations(driver);
    }

    /** The top 5 of the model's reference for chelsea.png appear, answered by the model of that name. */
    private static void assertPredictions(WebDriver driver, String model, JsonNode reference, String when) {
        JsonNode expected = reference.get("images").get("chelsea.png").get("top");
        List<WebElement> predictions = new WebDriverWait(driver, WAIT)
                .withMessage(() -> "no predictions of " + model + " " + when + "; the result card says: "
                        + driver.findElement(By.id("result-card")).getText())
                .until(d -> {
                    List<WebElement> found = d.findElements(By.cssSelector("#results .prediction"));
                    WebElement run = first(d, "#run-info");
                    return found.size() == 5 && run != null && run.getText().startsWith("Answered by " + model + " ")
                            ? found : null;
                });
        for (int i = 0; i < predictions.size(); i++) {
            assertEquals(expected.get(i).get("label").asText(), labelOf(predictions.get(i)), model + "'s label " + i + " " + when);
        }
    }

    @Test
    void aRefusedAddressSaysItIsNotFetchedAndToUploadInstead() {
        WebDriver driver = browser(1280, 900);
        driver.get(pageUrl);
        WebElement error = driver.findElement(By.id("error"));
        WebElement url = driver.findElement(By.id("url-input"));
        url.sendKeys("http://127.0.0.1:9/cat.jpg");
        driver.findElement(By.id("url-submit")).click();
        new WebDriverWait(driver, WAIT).until(d -> error.isDisplayed());
        assertHumanSentence(error.getText());
        assertEquals("url_not_allowed", error.getAttribute("data-code"), error.getText());
        String text = error.getText();
        assertTrue(text.contains("doesn't fetch images from that address") && text.contains("loopback"), text);
        assertTrue(text.contains("upload the file"), "says what to do: " + text);
        assertFalse(text.contains("not allowed to classify"), text);
        assertTrue(driver.findElement(By.cssSelector("#preview .preview-placeholder")).isDisplayed(),
                "the address gets a placeholder, not a preview loaded from another site");
        screenshot(driver, "refused-url");
        assertNoPolicyViolations(driver);
    }

    @Test
    void showsAReadableErrorAndRecovers() {
        WebDriver driver = browser(1280, 900);
        driver.get(pageUrl);
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        WebElement error = driver.findElement(By.id("error"));

        upload(driver, Fixtures.root().resolve("images").resolve("bad").resolve("not-an-image.txt"));
        wait.until(d -> error.isDisplayed());
        assertHumanSentence(error.getText());
        assertTrue(driver.findElements(By.cssSelector("#results .prediction")).isEmpty(), "no predictions for text");

        // An empty file has an image name, so the page sends it and the server has the final word.
        String before = error.getText();
        upload(driver, Fixtures.root().resolve("images").resolve("bad").resolve("empty.jpg"));
        wait.until(d -> error.isDisplayed() && !error.getText().equals(before));
        assertHumanSentence(error.getText());
        assertEquals("empty_body", error.getAttribute("data-code"));
        assertTrue(error.getText().startsWith("That file is empty, so there is nothing to classify."), error.getText());
        screenshot(driver, "empty-file");

        upload(driver, Fixtures.image("chelsea.png"));
        List<WebElement> predictions = waitForPredictions(driver);
        assertEquals(Fixtures.reference().get("images").get("chelsea.png").get("top").get(0).get("label").asText(),
                labelOf(predictions.get(0)), "top label after an error");
        assertFalse(error.isDisplayed(), "the error is gone once a photo is classified");
    }

    @Test
    void scoresTypedLabelsWithTheZeroShotModelAsTheRestRouteDoes() throws Exception {
        WebDriver driver = browser(1280, 900);
        driver.get(pageUrl);
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        Select picker = wait.until(d -> {
            Select select = new Select(d.findElement(By.id("model-select")));
            return select.getOptions().size() == 3 ? select : null;
        });
        WebElement classifyMode = driver.findElement(By.cssSelector("input[name=task][value=classify]"));
        WebElement zeroShotMode = driver.findElement(By.cssSelector("input[name=task][value=zero-shot]"));
        assertTrue(classifyMode.isDisplayed() && classifyMode.isSelected(), "a classifier is classified");
        assertFalse(zeroShotMode.isDisplayed() || zeroShotMode.isEnabled(), "a classifier offers no zero-shot mode");
        assertFalse(driver.findElement(By.id("zero-shot")).isDisplayed(), "no labels for a classifier");

        picker.selectByValue("tiny-clip");
        wait.until(d -> zeroShotMode.isDisplayed() && zeroShotMode.isSelected());
        assertFalse(classifyMode.isDisplayed() || classifyMode.isEnabled(), "a zero-shot model offers no classify mode");
        assertTrue(driver.findElement(By.cssSelector("input[name=task][value=embed]")).isDisplayed(), "embeddings stay");
        wait.until(d -> d.findElement(By.id("model-info")).getText().contains("30 × 30"));
        String info = driver.findElement(By.id("model-info")).getText();
        assertTrue(info.contains("zero-shot: labels you type · 12-value embedding"), info);
        assertEquals("Score", driver.findElement(By.id("url-submit-text")).getText());

        // the default labels and HF's default template, each with a label the page names
        WebElement field = driver.findElement(By.id("label-input"));
        assertEquals("label-input", driver.findElement(By.cssSelector("label[for=label-input]")).getAttribute("for"));
        assertEquals(List.of("cat", "dog", "bird", "car", "coffee"), chips(driver), "the default labels");
        assertEquals("Remove bird", driver.findElements(By.cssSelector("#chips button.chip")).get(2).getAttribute("aria-label"));
        WebElement template = driver.findElement(By.id("template-input"));
        assertEquals("This is a photo of {}.", template.getAttribute("value"));
        assertEquals("This is a photo of cat.", driver.findElement(By.id("template-example")).getText());

        // remove with a click and with Backspace in the empty field; add with Enter and with commas
        driver.findElements(By.cssSelector("#chips button.chip")).get(2).click();
        field.click();
        field.sendKeys(Keys.BACK_SPACE);
        assertEquals(List.of("cat", "dog", "car"), chips(driver), "bird clicked away, coffee backspaced");
        field.sendKeys("teapot", Keys.ENTER);
        field.sendKeys("rocket,lighthouse, palace ,");
        field.sendKeys("dog", Keys.ENTER);
        assertEquals(List.of("cat", "dog", "car", "teapot", "rocket", "lighthouse", "palace"), chips(driver),
                "added with Enter and commas, the second dog refused");
        assertEquals("", field.getAttribute("value"));
        WebElement chip = driver.findElements(By.cssSelector("#chips button.chip")).get(2);
        chip.sendKeys(Keys.DELETE);
        assertEquals(List.of("cat", "dog", "teapot", "rocket", "lighthouse", "palace"), chips(driver), "car deleted by key");
        assertEquals("Remove teapot", driver.switchTo().activeElement().getAttribute("aria-label"),
                "the keyboard stays on the labels");
        template.clear();
        template.sendKeys("a photo of a {}, blurry");
        assertEquals("a photo of a cat, blurry", driver.findElement(By.id("template-example")).getText());

        upload(driver, Fixtures.image("chelsea.png"));
        List<WebElement> rows = wait.withMessage(() -> "no scores; #error says: " + driver.findElement(By.id("error")).getText())
                .until(d -> {
                    List<WebElement> found = d.findElements(By.cssSelector("#zero-shot-scores .prediction"));
                    return found.size() == 6 ? found : null;
                });
        screenshot(driver, "desktop-zero-shot");

        List<String> labels = List.of("cat", "dog", "teapot", "rocket", "lighthouse", "palace");
        JsonNode expected = zeroShot(labels, "a photo of a {}, blurry", Fixtures.image("chelsea.png"))
                .get("results").get(0).get("predictions");
        assertEquals(labels.size(), expected.size());
        double previous = 1;
        for (int i = 0; i < rows.size(); i++) {
            WebElement row = rows.get(i);
            double score = Double.parseDouble(row.getAttribute("data-score"));
            assertEquals(expected.get(i).get("label").asText(), labelOf(row), "label " + i + " in the REST route's order");
            assertEquals(expected.get(i).get("score").asDouble(), score, 1e-12, "score of " + labelOf(row));
            assertTrue(score <= previous, "sorted by score: " + labelOf(row));
            previous = score;
            Matcher percent = PERCENT.matcher(row.findElement(By.className("score")).getText());
            assertTrue(percent.matches(), row.getText());
            if (percent.group(1) == null) {
                assertEquals(score * 100, Double.parseDouble(percent.group(2)), 0.051, "the percentage of " + labelOf(row));
            }
            String bar = row.findElement(By.className("bar-fill")).getAttribute("style");
            Matcher length = Pattern.compile("--score: ?([0-9.eE+-]+)").matcher(bar);
            assertTrue(length.find(), "the bar's length: " + bar);
            assertEquals(score, Double.parseDouble(length.group(1)), 1e-12, "the bar is as long as the score: " + bar);
        }
        System.out.printf("zero-shot on chelsea.png: page %s, REST %s%n",
                rows.stream().map(r -> labelOf(r) + "=" + r.getAttribute("data-score")).toList(), expected);
        assertTrue(driver.findElement(By.id("results")).getText().contains("a photo of a {}, blurry"), "the template is shown");
        assertTrue(driver.findElement(By.id("timings")).getText().contains("Text"), "the text tower's time is shown");
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "no error shown");

        // a new label scores the shown photo again
        field.sendKeys("tabby cat", Keys.ENTER);
        wait.until(d -> d.findElements(By.cssSelector("#zero-shot-scores .prediction")).size() == 7);

        // back to a classifier: the shown photo is classified by it instead of a blank result card
        picker.selectByValue("tiny-vit");
        List<WebElement> predictions = wait.until(d -> {
            List<WebElement> found = d.findElements(By.cssSelector("#results .prediction"));
            return d.findElements(By.id("zero-shot-scores")).isEmpty() && found.size() == 5 ? found : null;
        });
        assertEquals(Fixtures.reference().get("images").get("chelsea.png").get("top").get(0).get("label").asText(),
                labelOf(predictions.get(0)), "the photo classified by the new model");
        assertTrue(classifyMode.isSelected() && !zeroShotMode.isDisplayed(), "back in classify mode");
        assertTrue(driver.findElement(By.id("preview")).isDisplayed(), "the photo is still shown");

        // no labels: said on the page, nothing sent
        picker.selectByValue("tiny-clip");
        wait.until(d -> d.findElements(By.cssSelector("#zero-shot-scores .prediction")).size() == 7);
        field.click();
        for (int i = 0; i < 7; i++) {
            field.sendKeys(Keys.BACK_SPACE);
        }
        WebElement error = driver.findElement(By.id("error"));
        wait.until(d -> error.isDisplayed());
        assertEquals("no_labels", error.getAttribute("data-code"), error.getText());
        assertHumanSentence(error.getText());
        assertNoPolicyViolations(driver);
    }

    @Test
    void zeroShotAndEmbeddingsFitAPhone() {
        WebDriver driver = browser(360, 740);
        driver.get(pageUrl);
        JavascriptExecutor js = (JavascriptExecutor) driver;
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        Select picker = wait.until(d -> {
            Select select = new Select(d.findElement(By.id("model-select")));
            return select.getOptions().size() == 3 ? select : null;
        });
        picker.selectByValue("tiny-clip");
        WebElement title = driver.findElement(By.id("drop-touch-title"));
        wait.until(d -> title.getText().equals("Choose a photo to score against the labels"));
        assertNoHorizontalOverflow(js, "zero-shot page");
        upload(driver, Fixtures.image("coffee.jpg"));
        wait.until(d -> d.findElements(By.cssSelector("#zero-shot-scores .prediction")).size() == 5);
        assertNoHorizontalOverflow(js, "zero-shot scores");
        screenshot(driver, "phone-zero-shot");

        // the shown photo is embedded as soon as the mode changes, and the page scrolls to the vector
        js.executeScript("window.scrollTo(0, 0)");
        driver.findElement(By.cssSelector("input[name=task][value=embed]")).click();
        assertEquals("Choose a photo to embed", title.getText(), "the drop zone says what the photo is for");
        WebElement values = wait.until(d -> first(d, "#embedding-values"));
        assertInView(driver, values);
        assertEquals("12 values, unit length", driver.findElement(By.id("embedding-size")).getText());
        // and so does a photo chosen in embedding mode
        js.executeScript("window.scrollTo(0, 0)");
        upload(driver, Fixtures.image("chelsea.png"));
        wait.until(ExpectedConditions.stalenessOf(values));
        assertInView(driver, wait.until(d -> first(d, "#embedding-values")));
        assertNoHorizontalOverflow(js, "embedding");
        screenshot(driver, "phone-embedding");
        assertNoPolicyViolations(driver);
    }

    @Test
    void fitsAPhoneScreen() {
        WebDriver driver = browser(360, 740);
        driver.get(pageUrl);
        JavascriptExecutor js = (JavascriptExecutor) driver;
        long viewport = ((Number) js.executeScript("return window.innerWidth")).longValue();
        assertTrue(viewport <= 400, "the window is phone-sized, innerWidth = " + viewport);
        new WebDriverWait(driver, WAIT).until(d -> first(d, "#model-info dl, #model-info .unavailable"));
        assertNoHorizontalOverflow(js, "empty page");
        assertTrue(driver.findElement(By.id("tap-hint")).isDisplayed(), "a phone gets the tap hint");
        assertFalse(driver.findElement(By.id("paste-hint")).isDisplayed(), "a phone gets no Ctrl+V hint");
        for (WebElement drop : driver.findElements(By.cssSelector("#drop-zone .pointer-only"))) {
            assertFalse(drop.isDisplayed(), "a phone gets no drop hint: " + drop.getText());
        }
        screenshot(driver, "phone-empty");

        upload(driver, Fixtures.image("chelsea.png"));
        assertInView(driver, waitForPredictions(driver).get(0));
        assertNoHorizontalOverflow(js, "page with results");
        screenshot(driver, "phone-result");

        upload(driver, Fixtures.root().resolve("images").resolve("bad").resolve("not-an-image.txt"));
        new WebDriverWait(driver, WAIT).until(d -> d.findElement(By.id("error")).isDisplayed());
        assertNoHorizontalOverflow(js, "page with an error");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /**
     * The desktop model panel is a grid of two columns: in each column the names, the values and the sub-lines start
     * at one x, a sub-line under its value; the two facts of a row start at one y; the description starts where the
     * first column does.
     */
    private static void assertModelPanelLinesUp(WebDriver driver, String where) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        new WebDriverWait(driver, WAIT).until(d -> first(d, "#model-info .fact-input .detail"));
        @SuppressWarnings("unchecked")
        Map<String, Number> box = (Map<String, Number>) js.executeScript("const out = {};"
                + " for (const f of ['model', 'device', 'backend', 'input']) {"
                + "   for (const [part, css] of [['name', 'dt'], ['value', 'dd'], ['sub', '.detail']]) {"
                + "     const r = document.querySelector(`#model-info .fact-${f} ${css}`).getBoundingClientRect();"
                + "     out[`${f}.${part}.x`] = r.left; out[`${f}.${part}.y`] = r.top; } }"
                + " const about = document.querySelector('#model-description');"
                + " if (about) out['about.x'] = about.getBoundingClientRect().left;"
                + " return out;");
        String seen = where + ": " + box;
        for (String part : List.of("name", "value", "sub")) {
            assertEquals(x(box, "model." + part), x(box, "device." + part), 0.5, "column 1's " + part + "s line up at " + seen);
            assertEquals(x(box, "backend." + part), x(box, "input." + part), 0.5, "column 2's " + part + "s line up at " + seen);
        }
        for (String fact : List.of("model", "device", "backend", "input")) {
            assertEquals(x(box, fact + ".value"), x(box, fact + ".sub"), 0.5, fact + "'s sub-line starts under its value at " + seen);
        }
        assertTrue(x(box, "backend.name") > x(box, "model.value") + 100, "two columns side by side at " + seen);
        assertEquals(y(box, "model.name"), y(box, "backend.name"), 0.5, "row 1 starts at one height at " + seen);
        assertEquals(y(box, "device.name"), y(box, "input.name"), 0.5, "row 2 starts at one height at " + seen);
        if (box.containsKey("about.x")) {
            assertEquals(x(box, "model.name"), x(box, "about.x"), 0.5, "the description starts at column 1 at " + seen);
        }
    }

    private static double x(Map<String, Number> box, String key) {
        return box.get(key.endsWith(".x") ? key : key + ".x").doubleValue();
    }

    private static double y(Map<String, Number> box, String key) {
        return box.get(key + ".y").doubleValue();
    }

    /** The element comes fully into the window, once the page's smooth scrolling is done. */
    private static void assertInView(WebDriver driver, WebElement element) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        new WebDriverWait(driver, Duration.ofSeconds(5))
                .withMessage(() -> "not scrolled into view: " + js.executeScript("return JSON.stringify("
                        + "[arguments[0].getBoundingClientRect(), window.innerHeight, window.scrollY])", element))
                .until(d -> (Boolean) js.executeScript("const r = arguments[0].getBoundingClientRect();"
                        + " return r.top >= 0 && r.bottom <= window.innerHeight;", element));
    }

    /** The labels the page shows as chips, in order. */
    private static List<String> chips(WebDriver driver) {
        return driver.findElements(By.cssSelector("#chips .chip-text")).stream().map(WebElement::getText).toList();
    }

    /** What {@code POST /v1/models/tiny-clip/zero-shot} answers for the photo, the labels and the template. */
    private static JsonNode zeroShot(List<String> labels, String template, Path photo) throws Exception {
        StringBuilder query = new StringBuilder("hypothesis_template=").append(URLEncoder.encode(template, StandardCharsets.UTF_8));
        for (String label : labels) {
            query.append("&candidate_labels=").append(URLEncoder.encode(label, StandardCharsets.UTF_8));
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(pageUrl + "v1/models/tiny-clip/zero-shot?" + query))
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofFile(photo)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return new ObjectMapper().readTree(response.body());
    }

    private WebDriver browser(int width, int height) {
        TemporaryFolder profile;
        try {
            profile = TemporaryFolder.create("vitserve-chromium-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot make a Chromium profile folder", e);
        }
        profiles.add(profile);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        options.addArguments(
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile.path(), "--window-size=" + width + "," + height);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER)
                .usingAnyFreePort()
                .build();
        WebDriver driver = new ChromeDriver(service, options);
        drivers.add(driver);
        driver.manage().window().setSize(new Dimension(width, height));
        return driver;
    }

    /** The milliseconds the timings show for a step. */
    private static double millis(WebDriver driver, String step) {
        String text = driver.findElement(By.cssSelector("#timings [data-field=" + step + "]")).getText();
        assertTrue(text.endsWith(" ms"), step + ": " + text);
        return Double.parseDouble(text.substring(0, text.length() - 3).replace(",", ""));
    }

    /** The browser's console has no Content-Security-Policy violation (or any other error). */
    private static void assertNoPolicyViolations(WebDriver driver) {
        List<LogEntry> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .filter(entry -> !entry.getMessage().contains("Failed to load resource")) // the 4xx answers themselves
                .toList();
        assertTrue(errors.isEmpty(), "console errors: " + errors);
    }

    private static void screenshot(WebDriver driver, String name) {
        if (SCREENSHOTS == null) {
            return;
        }
        try {
            Path dir = Files.createDirectories(Path.of(SCREENSHOTS));
            Files.write(dir.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new IllegalStateException("cannot save a screenshot in " + SCREENSHOTS, e);
        }
    }

    private static void upload(WebDriver driver, Path file) {
        driver.findElement(By.id("file-input")).sendKeys(file.toAbsolutePath().toString());
    }

    private static List<WebElement> waitForPredictions(WebDriver driver) {
        return new WebDriverWait(driver, WAIT)
                .withMessage(() -> "no predictions; #error says: " + driver.findElement(By.id("error")).getText())
                .until(d -> {
                    List<WebElement> found = d.findElements(By.cssSelector("#results .prediction"));
                    return found.isEmpty() ? null : found;
                });
    }

    private static WebElement first(WebDriver driver, String css) {
        List<WebElement> found = driver.findElements(By.cssSelector(css));
        return found.isEmpty() ? null : found.get(0);
    }

    private static String labelOf(WebElement prediction) {
        return prediction.findElement(By.className("label")).getText();
    }

    private static void assertHumanSentence(String text) {
        String trimmed = text.strip();
        assertFalse(trimmed.isEmpty(), "an error message is shown");
        assertFalse(trimmed.startsWith("{") || trimmed.startsWith("["), "not JSON: " + trimmed);
        assertFalse(trimmed.contains("\"error\"") || trimmed.contains("\"code\""), "no raw JSON: " + trimmed);
        String first = trimmed.lines().findFirst().orElse("");
        assertTrue(first.matches("[A-Z][^{}]*[.!?]"), "a sentence: " + first);
        assertTrue(first.split("\\s+").length >= 4, "a sentence of several words: " + first);
    }

    private static void assertNoHorizontalOverflow(JavascriptExecutor js, String what) {
        List<?> widths = (List<?>) js.executeScript(
                "return [document.documentElement.scrollWidth, window.innerWidth]");
        long scrollWidth = ((Number) widths.get(0)).longValue();
        long innerWidth = ((Number) widths.get(1)).longValue();
        assertTrue(scrollWidth <= innerWidth,
                what + " scrolls sideways: scrollWidth " + scrollWidth + " > innerWidth " + innerWidth);
    }
}
