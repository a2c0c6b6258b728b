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
import qupath.lib.measurements.MeasurementList;
import qupath.lib.measurements.MeasurementListFactory;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.PathObjects;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.regions.RegionRequest;
import qupath.lib.roi.ROIs;
import qupath.lib.roi.interfaces.ROI;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.TileSettings;

/**
 * Classify tiles: reads each selected annotation's bounding region at a chosen downsample, classifies it
 * tile by tile on the server, and adds the classified tiles as tile objects under the annotation, each
 * with its class and "bioclass MODEL: LABEL" measurements (glue only: the work is in TileMapClassifier).
 */
final class ClassifyTilesCommand implements Runnable {
    private final QuPathGUI qupath;

    ClassifyTilesCommand(QuPathGUI qupath) {
        this.qupath = qupath;
    }

    @Override
    public void run() {
        ImageData<BufferedImage> imageData = qupath.getImageData();
        if (imageData == null || imageData.getHierarchy().getSelectionModel().noSelection()) {
            Dialogs.showErrorMessage("bioclass", "Select the annotations to tile first.");
            return;
        }
        String server = Dialogs.showInputDialog("bioclass", "Server (host:port)", ServerSettings.SERVER.get());
        String model = server == null ? null : Dialogs.showInputDialog("bioclass", "Model id", "");
        Double downsample = model == null ? null : Dialogs.showInputDialog("bioclass", "Downsample", 1.0);
        Double tile = downsample == null ? null : Dialogs.showInputDialog("bioclass",
                "Tile size in pixels at the downsample (0: the model's input)", 0.0);
        if (tile == null) {
            return;
        }
        List<PathObject> parents = new ArrayList<>(imageData.getHierarchy().getSelectionModel().getSelectedObjects());
        ServerSettings.SERVER.set(server.trim());
        // Tiling a large region takes longer than classifying objects: a deadline of 30 minutes per region.
        try (GrpcBioclassClient client = ServerSettings.open(server.trim(), 1800)) {
            TileMapClassifier classifier = new TileMapClassifier(client, model,
                    new TileSettings().tileSize((int) Math.max(0, tile)));
            for (PathObject parent : parents) {
                parent.addChildObjects(tiles(classifier, imageData.getServer(), parent.getROI(), downsample));
            }
            imageData.getHierarchy().fireHierarchyChangedEvent(this);
        } catch (BioclassException | IOException failure) {
            Dialogs.showErrorMessage("bioclass", failure.toString());
        }
    }

    private static List<PathObject> tiles(TileMapClassifier classifier, ImageServer<BufferedImage> server, ROI roi,
                                          double downsample) throws IOException {
        BufferedImage pixels = server.readRegion(RegionRequest.createInstance(server.getPath(), downsample, roi));
        Rectangle bounds = new Rectangle((int) roi.getBoundsX(), (int) roi.getBoundsY(),
                (int) Math.ceil(roi.getBoundsWidth()), (int) Math.ceil(roi.getBoundsHeight()));
        List<PathObject> tiles = new ArrayList<>();
        TileMapClassifier.Result result = classifier.classify(pixels, bounds, downsample, null);
        for (TileMapClassifier.DetectionTile tile : result.detections()) {
            Rectangle at = tile.bounds();
            MeasurementList measurements = MeasurementListFactory.createMeasurementList(tile.measurements().size(),
                    MeasurementList.MeasurementListType.DOUBLE);
            for (Map.Entry<String, Double> measurement : tile.measurements().entrySet()) {
                measurements.put(measurement.getKey(), measurement.getValue());
            }
            ROI square = ROIs.createRectangleROI(at.x, at.y, at.width, at.height, roi.getImagePlane());
            tiles.add(PathObjects.createTileObject(square, PathClass.fromString(tile.pathClass()), measurements));
        }
        return tiles;
    }
}
