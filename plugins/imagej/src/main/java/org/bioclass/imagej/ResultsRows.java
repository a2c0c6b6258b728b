package org.bioclass.imagej;

import ij.measure.ResultsTable;
import java.util.List;
import org.bioclass.client.LabelProbability;
import org.bioclass.client.Prediction;

/** Writes predictions as rows image, slice, rank, label, probability (a failed slice: label ERROR). */
final class ResultsRows {
    private ResultsRows() {
    }

    static void add(ResultsTable table, String image, List<Prediction> slices) {
        for (int slice = 0; slice < slices.size(); slice++) {
            Prediction prediction = slices.get(slice);
            if (prediction.failed()) {
                row(table, image, slice + 1, 0, "ERROR " + prediction.errorCode() + ": " + prediction.error(),
                        Double.NaN);
                continue;
            }
            List<LabelProbability> top = prediction.top();
            for (int rank = 0; rank < top.size(); rank++) {
                row(table, image, slice + 1, rank + 1, top.get(rank).label(), top.get(rank).probability());
            }
        }
    }

    private static void row(ResultsTable table, String image, int slice, int rank, String label, double probability) {
        table.incrementCounter();
        table.addValue("image", image);
        table.addValue("slice", slice);
        table.addValue("rank", rank);
        table.addValue("label", label);
        table.addValue("probability", probability);
    }
}
