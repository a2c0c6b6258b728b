package org.bioclass.client;

/** A region of a larger image to classify: its pixels and where it lies (in full-image pixels). */
public final class Tile extends ImageRegion {
    private final String id;
    private final ImageInput pixels;

    public Tile(String id, ImageInput pixels, int x, int y, int width, int height) {
        super(x, y, width, height);
        this.id = id;
        this.pixels = pixels;
    }

    /** The caller's id for the region (an object id, "tile 3,4", ...), echoed in its result. */
    public String id() {
        return id;
    }

    public ImageInput pixels() {
        return pixels;
    }
}
