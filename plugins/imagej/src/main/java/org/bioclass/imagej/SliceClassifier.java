package org.bioclass.imagej;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import java.awt.Rectangle;
import java.util.ArrayList;
import java.util.List;
import org.bioclass.client.BioclassClient;
import org.bioclass.client.ImageInput;
import org.bioclass.client.Prediction;

/** Classifies every slice of an image (cropped to its ROI's bounds) in one server stream. */
final class SliceClassifier {
    private final BioclassClient client;
    private final String modelId;
    private final int top;

    SliceClassifier(BioclassClient client, String modelId, int top) {
        this.client = client;
        this.modelId = modelId;
        this.top = top;
    }

    /** One prediction per slice, in slice order (a failed slice carries its error). */
    List<Prediction> classify(ImagePlus image) {
        Roi roi = image.getRoi();
        Rectangle bounds = roi == null || !roi.isArea() ? null : roi.getBounds();
        ImageStack stack = image.getStack();
        List<ImageInput> slices = new ArrayList<>();
        for (int slice = 1; slice <= stack.getSize(); slice++) {
            slices.add(ProcessorPixels.toInput(stack.getProcessor(slice), bounds, image.getTitle()));
        }
        return client.predictMany(modelId, slices, top);
    }
}
