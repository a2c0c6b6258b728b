package org.bioclass.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.plugin.filter.PlugInFilter;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.awt.Rectangle;
import org.bioclass.client.BioclassException;
import org.bioclass.client.Explanation;
import org.bioclass.client.GrpcBioclassClient;

/**
 * Plugins>bioclass>Explain Image (bioclass): asks the server which pixels of the current slice (cropped
 * to the ROI's bounds) made the model choose a class, and shows the saliency map as a new 32-bit image
 * "TITLE explanation (CLASS)" with values 0 to 1 and the Fire LUT; optionally also as a translucent
 * overlay on the image. class=[predicted] explains the predicted class; method auto picks Grad-CAM where
 * the model's framework supports it, else occlusion.
 * <pre>run("Explain Image (bioclass)", "server=127.0.0.1:50051 model=MODEL class=[predicted] method=auto");</pre>
 */
public class Explain_Image implements PlugInFilter {
    static final String PREDICTED = "predicted";
    private static final String TITLE = "Explain Image (bioclass)";
    private static final String[] METHODS = {"auto", "gradcam", "occlusion"};
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
        dialog.addStringField("class", PREDICTED, 16);
        dialog.addChoice("method", METHODS, Prefs.get("bioclass.explain.method", METHODS[0]));
        dialog.addCheckbox("overlay on the image", false);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String server = BioclassDialogs.nextServer(dialog);
        String modelId = BioclassDialogs.nextModel(dialog, model);
        String target = dialog.getNextString().trim();
        String method = dialog.getNextChoice();
        boolean overlay = dialog.getNextBoolean();
        Prefs.set("bioclass.explain.method", method);
        if (target.isEmpty() || target.equalsIgnoreCase(PREDICTED) || target.equalsIgnoreCase("[predicted]")) {
            target = null;
        }
        // Grad-CAM and occlusion on a large model take a while: a longer deadline than classifying.
        try (GrpcBioclassClient client = ServerConnection.open(server, 300)) {
            explain(client, modelId, target, method, overlay);
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }

    private void explain(GrpcBioclassClient client, String modelId, String target, String method, boolean overlay) {
        Roi roi = image.getRoi();
        Rectangle bounds = roi == null || !roi.isArea() ? null : roi.getBounds();
        IJ.showStatus("bioclass: explaining " + image.getTitle() + " with " + modelId + "...");
        Explanation explanation = client.explain(modelId, ProcessorPixels.toInput(image.getProcessor(), bounds,
                image.getTitle()), target, method);
        FloatProcessor map = new FloatProcessor(explanation.width(), explanation.height(), explanation.saliency());
        map.setMinAndMax(0, 1);
        ImagePlus result = new ImagePlus(image.getTitle() + " explanation (" + explanation.classLabel() + ")", map);
        IJ.run(result, "Fire", "");
        result.setDisplayRange(0, 1);
        result.setProperty("Info", "bioclass explanation\nmodel: " + modelId + "\nclass: " + explanation.classLabel()
                + "\nmethod: " + explanation.method() + "\npredicted: " + explanation.prediction().label() + "\n");
        if (overlay) {
            addOverlay(result, bounds);
        }
        IJ.log("bioclass: " + explanation.method() + " map of " + image.getTitle() + " for class "
                + explanation.classLabel() + " (predicted " + explanation.prediction().label() + ", "
                + String.format(java.util.Locale.ROOT, "%.3f", explanation.prediction().probability()) + ")");
        IJ.showStatus("");
        result.show();
    }

    /** The map in Fire colours, half transparent, over the explained region of the image. */
    private void addOverlay(ImagePlus map, Rectangle bounds) {
        ImageProcessor colours = map.getProcessor().convertToRGB();
        ImageRoi layer = new ImageRoi(bounds == null ? 0 : bounds.x, bounds == null ? 0 : bounds.y, colours);
        layer.setOpacity(0.5);
        layer.setName("bioclass explanation");
        Overlay overlay = image.getOverlay() == null ? new Overlay() : image.getOverlay();
        overlay.add(layer);
        image.setOverlay(overlay);
    }
}
