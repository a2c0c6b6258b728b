package org.bioclass.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The class of one region: best label, its probability and every returned label's probability. */
public final class RegionResult {
    private final Tile tile;
    private final Prediction prediction;

    RegionResult(Tile tile, Prediction prediction) {
        this.tile = tile;
        this.prediction = prediction;
    }

    public Tile tile() {
        return tile;
    }

    public String id() {
        return tile.id();
    }

    /** The best label; "" when the region could not be classified (see error()). */
    public String label() {
        return prediction.label();
    }

    public double probability() {
        return prediction.probability();
    }

    /** Label to probability, best first, for the top labels the server returned. */
    public Map<String, Double> probabilities() {
        Map<String, Double> byLabel = new LinkedHashMap<>();
        for (LabelProbability row : prediction.top()) {
            byLabel.put(row.label(), row.probability());
        }
        return Collections.unmodifiableMap(byLabel);
    }

    public boolean failed() {
        return prediction.failed();
    }

    /** "CODE: message" for a region the server refused, else "". */
    public String error() {
        return prediction.failed() ? prediction.errorCode() + ": " + prediction.error() : "";
    }

    @Override
    public String toString() {
        return id() + " " + (failed() ? error() : label() + " " + probability());
    }
}
