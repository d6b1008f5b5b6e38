package dev.vitserve.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The budget's rules: its total, half for request bytes, a reserve for small claims, memory given back once. */
class MemoryBudgetTest {

    private static final long MB = 1L << 20;

    @Test
    void claimsPastTheBudgetAreRefusedAndGivenBackExactlyOnce() {
        MemoryBudget budget = new MemoryBudget(1024 * MB);
        MemoryBudget.Claim work = budget.claim(MemoryBudget.Kind.WORK, 800 * MB);
        assertNotNull(work);
        assertNull(budget.claim(MemoryBudget.Kind.WORK, 100 * MB), "large claims leave the last eighth");
        assertNotNull(budget.claim(MemoryBudget.Kind.WORK, 8 * MB), "a small claim may take from the reserve");
        work.close();
        work.close();
        assertEquals(8 * MB, budget.used(), "closing twice gives back once");
    }

    @Test
    void requestBytesHoldAtMostHalfLessTheReserve() {
        MemoryBudget budget = new MemoryBudget(1024 * MB);
        List<MemoryBudget.Claim> bodies = new ArrayList<>();
        MemoryBudget.Claim body;
        while ((body = budget.claim(MemoryBudget.Kind.REQUEST, 30 * MB)) != null) {
            bodies.add(body);
        }
        assertEquals((512 - 128) / 30, bodies.size());
        assertEquals(budget.largest(MemoryBudget.Kind.REQUEST), 384 * MB);
        assertNotNull(budget.claim(MemoryBudget.Kind.REQUEST, MB), "a small body still fits");
        assertNotNull(budget.claim(MemoryBudget.Kind.WORK, 400 * MB), "the pixels of bodies received still fit");
        bodies.forEach(MemoryBudget.Claim::close);
        assertEquals(401 * MB, budget.used());
    }

    @Test
    void aClaimGrowsWithinTheBudgetAndShrinks() {
        MemoryBudget budget = new MemoryBudget(1024 * MB);
        MemoryBudget.Claim claim = budget.claim(MemoryBudget.Kind.REQUEST, 0);
        assertTrue(claim.grow(100 * MB));
        assertFalse(claim.grow(300 * MB), "past half the budget, less the reserve");
        assertEquals(100 * MB, claim.held());
        claim.shrinkTo(40 * MB);
        assertEquals(40 * MB, budget.requestUsed());
        claim.close();
        assertTrue(claim.grow(MB), "a closed claim grows no more");
        assertEquals(0, budget.used());
        assertEquals(0, budget.requestUsed());
    }
}
