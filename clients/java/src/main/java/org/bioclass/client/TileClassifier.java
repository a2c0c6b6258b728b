package org.bioclass.client;

import java.util.ArrayList;
import java.util.List;

/**
 * Classifies regions of one image with one model: the app-independent core of the QuPath and Icy
 * plugins (they only read the regions' pixels and write the results back to their objects).
 * Regions go to the server in batches over one stream each, so a slide with thousands of tiles
 * never holds more than one batch of pixels at a time.
 */
public final class TileClassifier {
    public static final int DEFAULT_BATCH = 64;

    private final BioclassClient client;
    private final String modelId;
    private final int topK;
    private final int batchSize;

    public TileClassifier(BioclassClient client, String modelId, int topK) {
        this(client, modelId, topK, DEFAULT_BATCH);
    }

    public TileClassifier(BioclassClient client, String modelId, int topK, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
        this.client = client;
        this.modelId = modelId;
        this.topK = topK;
        this.batchSize = batchSize;
    }

    /** One result per tile, in order; a tile the server refuses gets a failed result, the rest go on. */
    public List<RegionResult> classify(List<Tile> tiles) {
        List<RegionResult> results = new ArrayList<>(tiles.size());
        for (int start = 0; start < tiles.size(); start += batchSize) {
            List<Tile> batch = tiles.subList(start, Math.min(tiles.size(), start + batchSize));
            List<ImageInput> inputs = new ArrayList<>(batch.size());
            for (Tile tile : batch) {
                inputs.add(tile.pixels());
            }
            List<Prediction> predictions = client.predictMany(modelId, inputs, topK);
            for (int i = 0; i < batch.size(); i++) {
                results.add(new RegionResult(batch.get(i), predictions.get(i)));
            }
        }
        return results;
    }
}
