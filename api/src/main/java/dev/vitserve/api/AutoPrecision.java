package dev.vitserve.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code --precision auto}: at load, the fastest precision that this machine runs at the hardware's pace and whose
 * check at load passes (int8's accuracy self-check against float32, bf16's CPU features), trying each candidate,
 * fastest first, and saying why each faster one was passed over.
 */
public final class AutoPrecision {

    /**
     * A precision auto may pick.
     *
     * @param precision the precision
     * @param unavailable why it cannot run here (e.g. what the CPU lacks), or empty when it may be tried
     */
    public record Candidate(Precision precision, String unavailable) {

        public Candidate {
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(unavailable, "unavailable");
            if (precision == Precision.AUTO) {
                throw new IllegalArgumentException("auto is not a candidate of itself");
            }
        }

        /** A candidate that may be tried. */
        public static Candidate of(Precision precision) {
            return new Candidate(precision, "");
        }
    }

    /** Opens the model in one precision; its checks at load throw when they fail. */
    @FunctionalInterface
    public interface Opener<B> {
        /**
         * @param reason why this precision was picked, for the build's {@link NetworkBuild#chosenBecause()}
         */
        B open(Precision precision, String reason) throws BackendException;
    }

    private AutoPrecision() {
    }

    /**
     * Opens the first candidate that can run and passes its checks.
     *
     * @param fastestFirst the candidates, fastest on this device first
     * @throws BackendException when none opens: the last candidate's failure, with why the others were passed over
     */
    public static <B> B choose(List<Candidate> fastestFirst, Opener<B> opener) throws BackendException {
        List<String> passedOver = new ArrayList<>();
        BackendException last = null;
        for (Candidate candidate : fastestFirst) {
            String id = candidate.precision().id();
            if (!candidate.unavailable().isEmpty()) {
                passedOver.add(id + ": " + candidate.unavailable());
                continue;
            }
            String reason = "auto: " + id + (passedOver.isEmpty() ? ", the fastest precision here"
                    : ", the fastest that runs here (passed over " + String.join("; ", passedOver) + ")");
            try {
                return opener.open(candidate.precision(), reason);
            } catch (BackendException e) {
                last = e;
                passedOver.add(id + ": " + e.getMessage());
            }
        }
        String why = "--precision auto found no precision that runs here: " + String.join("; ", passedOver);
        throw last == null ? new BackendException(why) : new BackendException(why, last);
    }
}
