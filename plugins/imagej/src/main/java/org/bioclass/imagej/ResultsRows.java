package org.bioclass.imagej;

import ij.measure.ResultsTable;
import java.util.List;
import org.bioclass.client.LabelProbability;
import org.bioclass.client.Prediction;

/**
 * Writes predictions as rows label, probability, rank, slice, image: what a person reads first comes
 * first, and a long image name, last, is shortened in the middle so that it never pushes the label out
 * of the window. A failed slice: label "ERROR CODE: message".
 */
final class ResultsRows {
    /**
     * Longer image names keep their start and end (where numbering and extension are); long enough for
     * a microscope's usual names, which a saved table must keep whole to be joined with the files.
     */
    static final int MAX_NAME = 64;
    private static final String ELLIPSIS = "...";

    private ResultsRows() {
    }

    static void add(ResultsTable table, String image, List<Prediction> slices) {
        for (int slice = 0; slice < slices.size(); slice++) {
            add(table, image, slice + 1, slices.get(slice));
        }
    }

    static void add(ResultsTable table, String image, int slice, Prediction prediction) {
        if (prediction.failed()) {
            row(table, "ERROR " + prediction.errorCode() + ": " + prediction.error(), Double.NaN, 0, slice, image);
            return;
        }
        List<LabelProbability> top = prediction.top();
        for (int rank = 0; rank < top.size(); rank++) {
            row(table, top.get(rank).label(), top.get(rank).probability(), rank + 1, slice, image);
        }
    }

    /** The name shortened to MAX_NAME characters, e.g. "plate-2026-12-02-experiment-17...microscope-well-B07-0042.tif". */
    static String elide(String name) {
        if (name.length() <= MAX_NAME) {
            return name;
        }
        int kept = MAX_NAME - ELLIPSIS.length();
        int head = kept / 2;
        return name.substring(0, head) + ELLIPSIS + name.substring(name.length() - (kept - head));
    }

    private static void row(ResultsTable table, String label, double probability, int rank, int slice,
                            String image) {
        table.incrementCounter();
        table.addValue("label", label);
        table.addValue("probability", probability);
        table.addValue("rank", rank);
        table.addValue("slice", slice);
        table.addValue("image", elide(image));
    }
}
