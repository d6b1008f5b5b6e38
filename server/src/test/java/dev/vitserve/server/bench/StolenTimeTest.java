package dev.vitserve.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StolenTimeTest {

    @Test
    void theShareStolenBetweenTwoReadingsOfProcStatIsStealOverAllTicks() {
        // Two readings of this VM 10 s apart while the host was busy: 687 of 2072 ticks stolen.
        StolenTime before = StolenTime.parse("cpu  3267474 7742 113633 1880111 11488 0 3323 73862 0 0");
        StolenTime after = StolenTime.parse("cpu  3268641 7742 113673 1880329 11488 0 3323 74549 0 0");

        double percent = StolenTime.percentSince(before, after);

        assertEquals(100.0 * 687 / (1167 + 40 + 218 + 687), percent, 1e-9);
        assertEquals("steal 32.5% (busy host!)", StolenTime.label(percent));
        assertEquals("steal 0.4%", StolenTime.label(0.4));
    }

    @Test
    void anUnknownReadingGivesNoFigureRatherThanAWrongOne() {
        StolenTime reading = StolenTime.parse("cpu 1 2 3 4 5 6 7 8 0 0");
        assertTrue(Double.isNaN(StolenTime.percentSince(null, reading)));
        assertTrue(Double.isNaN(StolenTime.percentSince(reading, reading)));
        assertEquals("steal -", StolenTime.label(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> StolenTime.parse("cpu0 1 2 3 4 5 6 7 8"));
    }
}
