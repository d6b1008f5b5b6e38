package dev.vitserve.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a management-API load may name: folders within the roots, or Hub ids; never a folder elsewhere. */
class AdminModelRootsTest {

    @TempDir
    Path temp;

    @Test
    void aFolderWithinARootIsTakenAbsoluteOrRelativeLinksIncluded() throws Exception {
        Path root = Files.createDirectories(temp.resolve("repo"));
        Path model = Files.createDirectories(root.resolve("vit-small"));
        Path elsewhere = Files.createDirectories(temp.resolve("store/vit-linked"));
        Files.createSymbolicLink(root.resolve("linked"), elsewhere);
        AdminModelRoots roots = new AdminModelRoots(List.of(root));
        for (String given : new String[] {model.toString(), "vit-small", root + "/./vit-small"}) {
            ModelSettings confined = roots.confine(settings(given));
            assertEquals(model.toString(), confined.model(), given);
            assertTrue(confined.folderLookup());
        }
        // a link the operator put in the repository is followed
        assertEquals(root.resolve("linked").toString(), roots.confine(settings("linked")).model());
    }

    @Test
    void aHubIdStaysAHubIdAndIsNeverLookedUpInTheWorkingDirectory() throws Exception {
        AdminModelRoots roots = new AdminModelRoots(List.of(temp));
        ModelSettings confined = roots.confine(settings("google/vit-base-patch16-224"));
        assertEquals("google/vit-base-patch16-224", confined.model());
        assertFalse(confined.folderLookup());
        // "src/main" is a folder of the tests' working directory (core/): still a Hub id, not that folder
        assertTrue(Files.isDirectory(Path.of("src/main")));
        assertFalse(roots.confine(settings("src/main")).folderLookup());
    }

    @Test
    void pathsOutsideTheRootsAreRefusedAlikeWhetherTheyExistOrNot() throws Exception {
        Path root = Files.createDirectories(temp.resolve("repo"));
        Path outside = Files.createDirectories(temp.resolve("elsewhere"));
        AdminModelRoots roots = new AdminModelRoots(List.of(root));
        for (String given : new String[] {outside.toString(), outside + "/none", "../elsewhere",
                root + "/../elsewhere", "/etc", "./x", "~/x"}) {
            ModelException e = assertThrows(ModelException.class, () -> roots.confine(settings(given)), given);
            assertEquals("model '" + given + "' is neither a Hugging Face Hub id nor a folder within the folders the"
                    + " management API may load from (--admin-model-roots: " + root + ")", e.getMessage());
        }
    }

    @Test
    void theRootsDefaultToTheRepositoryAndTheHubCache() throws Exception {
        Path repository = Files.createDirectories(temp.resolve("models"));
        Files.writeString(Files.createDirectories(repository.resolve("a")).resolve("config.json"), "{}");
        ServerConfig config = ServerConfig.fromArgs(Map.of("HF_HOME", temp.resolve("hf").toString()), "--model", "m",
                "--model-repository", repository.toString());
        assertEquals(List.of(repository, temp.resolve("hf").resolve("hub")), config.adminModelRoots());
        assertEquals(List.of(temp), ServerConfig.fromArgs(Map.of(), "--model", "m", "--admin-model-roots",
                temp.toString()).adminModelRoots());
    }

    private static ModelSettings settings(String model) throws Exception {
        return ServerConfig.fromArgs(Map.of(), "--model", "m").models().get(0).from(model, true);
    }
}
