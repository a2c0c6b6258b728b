package org.bioclass.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.gui.Roi;
import ij.measure.ResultsTable;
import ij.plugin.filter.PlugInFilter;
import ij.process.ImageProcessor;
import java.awt.Rectangle;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.TileListener;
import org.bioclass.client.TileMap;
import org.bioclass.client.TileResult;
import org.bioclass.client.TileRow;
import org.bioclass.client.TileSettings;

/**
 * Plugins>bioclass>Classify Tiles (bioclass): classifies the current slice tile by tile at native scale
 * (inside the ROI's bounds when there is one) and adds the label image "TITLE tile labels" (0: skipped or
 * outside, 1 + the class index), a probability stack "TITLE tile probabilities" (one 32-bit slice per
 * class, named by its label) and a Results row per tile: image, y, x, h, w, label, probability. The maps
 * have the image's size and calibration (each pixel takes the tile whose centre is nearest), or with
 * map=[one pixel per tile] one pixel per tile, calibrated so that they lie over the image.
 * tile=0 takes the model's input size, stride=0 the tile size.
 * <pre>run("Classify Tiles (bioclass)", "server=127.0.0.1:50051 model=malaria-cnn-onnx tile=50 stride=50 aggregation=mean map=[image size]");</pre>
 */
public class Classify_Tiles implements PlugInFilter {
    private static final String TITLE = "Classify Tiles (bioclass)";
    private static final String[] AGGREGATIONS = {"mean", "majority"};
    /** Tiling a large image takes longer than classifying one: the whole stream gets this long. */
    private static final long DEADLINE_SECONDS = 1800;
    private ImagePlus image;

    @Override
    public int setup(String arg, ImagePlus image) {
        this.image = image;
        return DOES_ALL | NO_CHANGES | NO_UNDO;
    }

    @Override
    public void run(ImageProcessor ignored) {
        Failures.clear();
        GenericDialog dialog = BioclassDialogs.withServer(TITLE);
        FreeChoice model = BioclassDialogs.addModel(dialog);
        dialog.addNumericField("tile", Prefs.get("bioclass.tiles.tile", 0), 0, 6, "px (0: the model's input)");
        dialog.addNumericField("stride", Prefs.get("bioclass.tiles.stride", 0), 0, 6, "px (0: the tile size)");
        dialog.addChoice("aggregation", AGGREGATIONS, Prefs.get("bioclass.tiles.aggregation", AGGREGATIONS[0]));
        dialog.addChoice("map", TileImages.SCALES, Prefs.get("bioclass.tiles.map", TileImages.SCALES[0]));
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String server = BioclassDialogs.nextServer(dialog);
        String modelId = BioclassDialogs.nextModel(dialog, model);
        int tile = (int) Math.max(0, dialog.getNextNumber());
        int stride = (int) Math.max(0, dialog.getNextNumber());
        String aggregation = dialog.getNextChoice();
        String scale = dialog.getNextChoice();
        Prefs.set("bioclass.tiles.tile", tile);
        Prefs.set("bioclass.tiles.stride", stride);
        Prefs.set("bioclass.tiles.aggregation", aggregation);
        Prefs.set("bioclass.tiles.map", scale);
        TileSettings settings = new TileSettings().tileSize(tile).stride(stride).aggregation(aggregation).topK(1);
        try (GrpcBioclassClient client = ServerConnection.open(server, DEADLINE_SECONDS)) {
            classify(client, modelId, settings, scale.equals(TileImages.SCALES[0]));
        } catch (BioclassException failure) {
            Failures.report(failure);
        } finally {
            IJ.showProgress(1.0);
        }
    }

    private void classify(GrpcBioclassClient client, String modelId, TileSettings settings, boolean imageSize) {
        Roi roi = image.getRoi();
        if (roi != null && roi.isArea()) {  // a ROI reaching past the image's edge tiles the part inside
            Rectangle bounds = roi.getBounds().intersection(new Rectangle(0, 0, image.getWidth(), image.getHeight()));
            settings.region(bounds.x, bounds.y, bounds.width, bounds.height);
        }
        IJ.showStatus("bioclass: classifying the tiles of " + image.getTitle() + " with " + modelId + "...");
        ResultsTable table = ResultsTable.getResultsTable();
        TileMap map = client.predictTiles(modelId, ProcessorPixels.toInput(image.getProcessor(), null,
                image.getTitle()), settings, new Rows(table, image.getTitle()));
        table.show("Results");
        TileImages images = new TileImages(map, image.getCalibration(), imageSize);
        images.labels(image.getTitle() + " tile labels").show();
        images.probabilities(image.getTitle() + " tile probabilities").show();
        IJ.log("bioclass: " + image.getTitle() + ": " + map.grid().rows() + " x " + map.grid().columns() + " tiles, "
                + map.tilesClassified() + " classified, " + map.tilesSkipped() + " skipped; whole image: "
                + map.summary().label() + " " + String.format(java.util.Locale.ROOT, "%.3f",
                map.summary().probability()) + " (" + map.grid().aggregation() + ")");
        IJ.showStatus("");
    }

    /** Results rows and the progress bar follow the rows of tiles as they arrive. */
    private static final class Rows implements TileListener {
        private final ResultsTable table;
        private final String title;

        Rows(ResultsTable table, String title) {
            this.table = table;
            this.title = title;
        }

        @Override
        public void row(TileRow row) {
            for (TileResult tile : row.tiles()) {
                TileImages.addRow(table, title, tile);
            }
            IJ.showProgress(row.fraction());
        }
    }
}
