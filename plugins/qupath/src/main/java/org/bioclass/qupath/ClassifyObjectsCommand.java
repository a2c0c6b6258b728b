package org.bioclass.qupath;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import qupath.lib.gui.QuPathGUI;
import qupath.lib.gui.dialogs.Dialogs;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.regions.RegionRequest;
import qupath.lib.roi.interfaces.ROI;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.RegionResult;

/**
 * Reads each selected object's bounding region at a chosen downsample, classifies the regions in
 * batches, and sets each object's class and "bioclass MODEL: LABEL" measurements.
 */
final class ClassifyObjectsCommand implements Runnable {
    private final QuPathGUI qupath;

    ClassifyObjectsCommand(QuPathGUI qupath) {
        this.qupath = qupath;
    }

    @Override
    public void run() {
        ImageData<BufferedImage> imageData = qupath.getImageData();
        if (imageData == null || imageData.getHierarchy().getSelectionModel().noSelection()) {
            Dialogs.showErrorMessage("bioclass", "Select the objects to classify first.");
            return;
        }
        String server = Dialogs.showInputDialog("bioclass", "Server (host:port)", ServerSettings.SERVER.get());
        String model = server == null ? null : Dialogs.showInputDialog("bioclass", "Model id", "");
        Double downsample = model == null ? null : Dialogs.showInputDialog("bioclass", "Downsample", 1.0);
        if (downsample == null) {
            return;
        }
        List<PathObject> objects = new ArrayList<>(imageData.getHierarchy().getSelectionModel().getSelectedObjects());
        ServerSettings.SERVER.set(server.trim());
        // Token and TLS from Extensions>bioclass>Server settings (or the BIOCLASS_* environment variables).
        try (GrpcBioclassClient client = ServerSettings.open(server.trim())) {
            RegionClassifier classifier = new RegionClassifier(client, model, 0);
            List<RegionResult> results = classifier.classify(regions(imageData.getServer(), objects, downsample));
            apply(classifier, objects, results);
            imageData.getHierarchy().fireObjectClassificationsChangedEvent(this, objects);
        } catch (BioclassException | IOException failure) {
            Dialogs.showErrorMessage("bioclass", failure.toString());
        }
    }

    private static List<RegionClassifier.Region> regions(ImageServer<BufferedImage> server, List<PathObject> objects,
                                                         double downsample) throws IOException {
        List<RegionClassifier.Region> regions = new ArrayList<>();
        for (PathObject object : objects) {
            ROI roi = object.getROI();
            BufferedImage pixels = server.readRegion(RegionRequest.createInstance(server.getPath(), downsample, roi));
            Rectangle bounds = new Rectangle((int) roi.getBoundsX(), (int) roi.getBoundsY(),
                    (int) Math.ceil(roi.getBoundsWidth()), (int) Math.ceil(roi.getBoundsHeight()));
            regions.add(new RegionClassifier.Region(object.getID().toString(), pixels, bounds));
        }
        return regions;
    }

    private static void apply(RegionClassifier classifier, List<PathObject> objects, List<RegionResult> results) {
        for (int i = 0; i < objects.size(); i++) {
            RegionResult result = results.get(i);
            if (result.failed()) {
                continue;
            }
            objects.get(i).setPathClass(PathClass.fromString(result.label()));
            for (Map.Entry<String, Double> measurement : classifier.measurements(result).entrySet()) {
                objects.get(i).getMeasurementList().put(measurement.getKey(), measurement.getValue());
            }
        }
    }
}
