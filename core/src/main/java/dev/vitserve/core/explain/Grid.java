package dev.vitserve.core.explain;

/**
 * The cells of a heatmap over the model's input tensor: cell (i, j) covers tensor rows
 * {@code [floor(i * height / rows), floor((i + 1) * height / rows))} and the columns likewise.
 *
 * @param rows cells top to bottom
 * @param cols cells left to right
 */
public record Grid(int rows, int cols) {

    /** The largest side a requested grid may have: a 16x16 occlusion runs 256 masked images. */
    public static final int MAX_SIDE = 16;

    public Grid {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("a grid needs at least one row and one column, got " + rows + "x" + cols);
        }
    }

    /** Rows times columns. */
    public int cells() {
        return rows * cols;
    }

    /** The first tensor row of cell row {@code i} (and the end of row {@code i - 1}). */
    public int rowStart(int i, int height) {
        return (int) ((long) i * height / rows);
    }

    /** The first tensor column of cell column {@code j}. */
    public int colStart(int j, int width) {
        return (int) ((long) j * width / cols);
    }

    /**
     * Parses {@code RxC} or {@code N} (N x N).
     *
     * @throws IllegalArgumentException saying what is accepted
     */
    public static Grid parse(String text) {
        String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("x", -1);
        try {
            if (parts.length == 1) {
                int side = Integer.parseInt(parts[0].trim());
                return new Grid(side, side);
            }
            if (parts.length == 2) {
                return new Grid(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("grid must be ROWSxCOLS (e.g. 14x14) or one number for a square grid, got '"
                + text + "'");
    }

    @Override
    public String toString() {
        return rows + "x" + cols;
    }
}
