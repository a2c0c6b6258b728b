package org.bioclass.imagej;

import ij.ImagePlus;
import ij.measure.ResultsTable;
import ij.plugin.filter.PlugInFilter;
import ij.process.ImageProcessor;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;

/**
 * Plugins>bioclass>Classify Image (bioclass): classifies the current image, each slice of a stack,
 * cropped to the ROI's bounds, and appends rows label, probability, rank, slice, image to Results.
 * <pre>run("Classify Image (bioclass)", "server=127.0.0.1:50051 model=malaria-cnn-onnx top=2");</pre>
 */
public class Classify_Image implements PlugInFilter {
    private static final String TITLE = "Classify Image (bioclass)";
    private ImagePlus image;

    @Override
    public int setup(String arg, ImagePlus image) {
        this.image = image;
        return DOES_ALL | NO_CHANGES | NO_UNDO;
    }

    @Override
    public void run(ImageProcessor ignored) {
        Failures.clear();
        BioclassDialogs.Request request = BioclassDialogs.ask(TITLE, false);
        if (request == null) {
            return;
        }
        try (GrpcBioclassClient client = ServerConnection.open(request.server)) {
            SliceClassifier classifier = new SliceClassifier(client, request.modelId, request.top);
            ResultsTable table = ResultsTable.getResultsTable();
            ResultsRows.add(table, image.getTitle(), classifier.classify(image));
            table.show("Results");
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }
}
