package org.bioclass.client;

/** A region of a larger image to classify: its pixels and where it lies (in full-image pixels). */
public final class Tile {
    private final String id;
    private final ImageInput pixels;
    private final int x;
    private final int y;
    private final int width;
    private final int height;

    public Tile(String id, ImageInput pixels, int x, int y, int width, int height) {
        this.id = id;
        this.pixels = pixels;
        this.x = x;
        this.y = y;
        this.width = width;
        this.height = height;
    }

    /** The caller's id for the region (an object id, "tile 3,4", ...), echoed in its result. */
    public String id() {
        return id;
    }

    public ImageInput pixels() {
        return pixels;
    }

    public int x() {
        return x;
    }

    public int y() {
        return y;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }
}
