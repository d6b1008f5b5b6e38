package dev.vitserve.core.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.vitserve.core.hub.HubSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * Layers the three sources of settings. Values from the config file and the environment are
 * turned into flags placed before the real ones, and picocli lets a later flag overwrite an
 * earlier one, so precedence is simply the order: file, then environment, then command line.
 */
final class ConfigLoader {

    static final String ENV_PREFIX = "VITSERVE_";
    /** The config file's list of models, each with its own settings. */
    static final String MODELS_KEY = "models";

    private ConfigLoader() {
    }

    static ServerConfig load(String[] args, Map<String, String> environment) throws ConfigException {
        ServerConfig firstPass = parse(List.of(args));
        Path file = firstPass.configFile();
        if (file == null && environment.get(envName("--config")) != null) {
            file = Path.of(environment.get(envName("--config")));
        }
        // --model may be repeated, so a later layer's models would add to an earlier one's: the highest layer
        // naming any model names them all
        boolean flagModels = !firstPass.modelFlags().isEmpty();
        List<String> environmentArgs = environmentArgs(environment);
        boolean environmentModels = environmentArgs.stream().anyMatch(ConfigLoader::isModelArg);
        List<String> layered = new ArrayList<>();
        JsonNode fileModels = null;
        if (file != null) {
            JsonNode root = readFile(file);
            List<String> fileArgs = fileArgs(file, root);
            if (flagModels || environmentModels) {
                fileArgs.removeIf(ConfigLoader::isModelArg);
            } else if (root != null && root.has(MODELS_KEY)) {
                fileModels = root.get(MODELS_KEY);
            }
            layered.addAll(fileArgs);
        }
        if (flagModels) {
            environmentArgs.removeIf(ConfigLoader::isModelArg);
        }
        layered.addAll(environmentArgs);
        layered.addAll(List.of(args));
        ServerConfig config = parse(layered);
        config.fileModels(fileModels);
        config.validate();
        config.hub(HubSettings.fromEnvironment(environment));
        return config;
    }

    /** A command line for the server's options, as picocli sees them (for help and errors). */
    static CommandLine commandLine(ServerConfig target) {
        return new CommandLine(target).setOverwrittenOptionsAllowed(true).setCaseInsensitiveEnumValuesAllowed(true);
    }

    private static ServerConfig parse(List<String> args) throws ConfigException {
        ServerConfig config = new ServerConfig();
        try {
            commandLine(config).parseArgs(args.toArray(String[]::new));
        } catch (ParameterException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        return config;
    }

    private static List<OptionSpec> settings() {
        List<OptionSpec> settings = new ArrayList<>();
        for (OptionSpec option : commandLine(new ServerConfig()).getCommandSpec().options()) {
            if (!option.usageHelp() && !option.versionHelp() && !option.longestName().equals("--config")) {
                settings.add(option);
            }
        }
        return settings;
    }

    static String envName(String flag) {
        return ENV_PREFIX + flag.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    private static List<String> environmentArgs(Map<String, String> environment) {
        List<String> args = new ArrayList<>();
        for (OptionSpec option : settings()) {
            String value = environment.get(envName(option.longestName()));
            if (value != null) {
                args.add(option.longestName() + "=" + value);
            }
        }
        return args;
    }

    private static boolean isModelArg(String arg) {
        return arg.startsWith("--model=");
    }

    private static JsonNode readFile(Path file) throws ConfigException {
        JsonNode root;
        try {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            ObjectMapper mapper = name.endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
            root = mapper.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (JacksonException e) {
            throw new ConfigException("config file " + file + " is not valid YAML or JSON: "
                    + e.getOriginalMessage() + locationOf(e), e);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return null;
        }
        if (!root.isObject()) {
            throw new ConfigException("config file " + file + " must hold a mapping of option names to values");
        }
        return root;
    }

    private static List<String> fileArgs(Path file, JsonNode root) throws ConfigException {
        if (root == null) {
            return new ArrayList<>();
        }
        Map<String, OptionSpec> byKey = new LinkedHashMap<>();
        for (OptionSpec option : settings()) {
            byKey.put(option.longestName().substring(2), option);
        }
        List<String> args = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (canonicalKey(entry.getKey()).equals(MODELS_KEY)) {
                continue;
            }
            OptionSpec option = byKey.get(canonicalKey(entry.getKey()));
            if (option == null) {
                TreeSet<String> known = new TreeSet<>(byKey.keySet());
                known.add(MODELS_KEY);
                throw new ConfigException("config file " + file + ": unknown setting '" + entry.getKey()
                        + "'; known settings: " + String.join(", ", known));
            }
            args.add(option.longestName() + "=" + scalar(file, entry.getKey(), entry.getValue()));
        }
        return args;
    }

    /** {@code maxBodySize}, {@code max_body_size} and {@code max-body-size} all name the same option. */
    static String canonicalKey(String key) {
        String kebab = key.replaceAll("([a-z0-9])([A-Z])", "$1-$2").replace('_', '-');
        return kebab.toLowerCase(Locale.ROOT).replaceFirst("^-+", "");
    }

    private static String scalar(Path file, String key, JsonNode value) throws ConfigException {
        if (value.isArray()) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : value) {
                items.add(scalar(file, key, item));
            }
            return String.join(",", items);
        }
        if (value.isContainerNode() || value.isNull()) {
            throw new ConfigException("config file " + file + ": setting '" + key + "' must be a single value");
        }
        return value.asText();
    }

    private static String locationOf(JacksonException e) {
        return e.getLocation() != null && e.getLocation().getLineNr() > 0
                ? " (line " + e.getLocation().getLineNr() + ")" : "";
    }
}
