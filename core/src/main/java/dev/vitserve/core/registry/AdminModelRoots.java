package dev.vitserve.core.registry;

import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.hub.ModelResolver;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The folders a model loaded through the management API (or the protocol's repository calls) may be read from
 * ({@code --admin-model-roots}, by default the model repository and the Hugging Face cache): a folder elsewhere is
 * refused with the same words whether it exists or not, and a name that is not a folder within them is a Hub id, never
 * a folder of the working directory. Containment is judged on the path as written, normalized ({@code ..} cannot
 * leave a root); symbolic links within the roots are the operator's (a repository of links, the Hub cache's
 * snapshots) and are followed. Models given at start are the operator's and are not confined.
 */
public final class AdminModelRoots {

    private final List<Path> roots;

    /** Roots as given, compared by their normalized absolute paths; those that do not exist (yet) are kept. */
    public AdminModelRoots(List<Path> roots) {
        this.roots = roots.stream().map(AdminModelRoots::absolute).toList();
    }

    /** The folders, as the refusal names them. */
    public List<Path> roots() {
        return roots;
    }

    /**
     * The settings with the model made an absolute folder within a root, or marked as a Hub id.
     *
     * @throws ModelException {@code INVALID_MODEL} when it names a path that is not a folder within a root
     */
    public ModelSettings confine(ModelSettings settings) {
        String model = settings.model();
        boolean path = ModelResolver.looksLikePath(model);
        List<Path> candidates = new ArrayList<>();
        try {
            Path given = Path.of(model);
            // as written (absolute, or from the working directory), then within each root
            candidates.add(given);
            if (!given.isAbsolute()) {
                roots.forEach(root -> candidates.add(root.resolve(given)));
            }
        } catch (InvalidPathException e) {
            throw refusal(model);
        }
        for (Path candidate : candidates) {
            Optional<Path> inside = within(candidate);
            if (inside.isPresent()) {
                return settings.from(inside.get().toString(), true);
            }
        }
        if (path) {
            throw refusal(model);
        }
        return settings.from(model, false);
    }

    /** The folder's normalized absolute path when it is a folder within a root, else empty. */
    private Optional<Path> within(Path candidate) {
        Path normalized = absolute(candidate);
        if (roots.stream().noneMatch(normalized::startsWith) || !Files.isDirectory(normalized)) {
            return Optional.empty();
        }
        return Optional.of(normalized);
    }

    private ModelException refusal(String model) {
        String shown = model.length() > 200 ? model.substring(0, 200) + "..." : model;
        return new ModelException(ModelException.Reason.INVALID_MODEL, "model '" + shown + "' is neither a Hugging Face"
                + " Hub id nor a folder within the folders the management API may load from (--admin-model-roots: "
                + roots.stream().map(Path::toString).collect(Collectors.joining(", ")) + ")");
    }

    private static Path absolute(Path path) {
        return path.toAbsolutePath().normalize();
    }
}
