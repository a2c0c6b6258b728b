package plugins.bioclass.classifier;

import icy.gui.dialog.MessageDialog;
import icy.roi.ROI2D;
import icy.sequence.Sequence;
import java.awt.Rectangle;
import java.util.ArrayList;
import java.util.List;
import org.bioclass.client.BioclassException;
import org.bioclass.client.ConnectionSettings;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.RegionResult;
import org.bioclass.client.Tile;
import org.bioclass.client.TileClassifier;
import plugins.adufour.ezplug.EzPlug;
import plugins.adufour.ezplug.EzVarInteger;
import plugins.adufour.ezplug.EzVarText;

/**
 * Icy plugin "bioclass classifier": classifies every plane of the active sequence (each 2-D ROI's
 * bounds, or the whole plane), names each ROI after its class and prints the rows to the console.
 * Token and TLS: a token file (never the token itself), the CA certificate and, for mutual TLS, a client
 * certificate and PKCS#8 key; empty fields fall back to BIOCLASS_TOKEN and BIOCLASS_TLS_*.
 * Glue only: the work is in PlaneRegions and the client's TileClassifier and ConnectionSettings.
 */
public class BioclassClassifier extends EzPlug {
    private final EzVarText server = new EzVarText("server");
    private final EzVarText model = new EzVarText("model");
    private final EzVarInteger top = new EzVarInteger("top", 1, 1, 100, 1);
    private final EzVarText tokenFile = new EzVarText("token file");
    private final EzVarText caCertificate = new EzVarText("TLS CA certificate");
    private final EzVarText clientCertificate = new EzVarText("client certificate");
    private final EzVarText clientKey = new EzVarText("client key (PKCS#8)");

    @Override
    protected void initialize() {
        server.setValue("127.0.0.1:50051");
        addEzComponent(server);
        addEzComponent(model);
        addEzComponent(top);
        addEzComponent(tokenFile);
        addEzComponent(caCertificate);
        addEzComponent(clientCertificate);
        addEzComponent(clientKey);
    }

    private ConnectionSettings connection() {
        return ConnectionSettings.fromEnvironment().tokenFile(tokenFile.getValue())
                .caCertificate(caCertificate.getValue())
                .clientCertificate(clientCertificate.getValue(), clientKey.getValue());
    }

    @Override
    protected void execute() {
        Sequence sequence = getActiveSequence();
        if (sequence == null) {
            MessageDialog.showDialog("bioclass", "Open an image first.", MessageDialog.ERROR_MESSAGE);
            return;
        }
        List<ROI2D> rois = sequence.getROI2Ds();
        List<String> names = new ArrayList<>();
        List<Rectangle> bounds = new ArrayList<>();
        for (ROI2D roi : rois) {
            names.add(roi.getName());
            bounds.add(roi.getBounds());
        }
        try (GrpcBioclassClient client = new GrpcBioclassClient(server.getValue(), connection())) {
            TileClassifier classifier = new TileClassifier(client, model.getValue(), top.getValue());
            for (int t = 0; t < sequence.getSizeT(); t++) {
                for (int z = 0; z < sequence.getSizeZ(); z++) {
                    List<Tile> tiles = PlaneRegions.tiles(sequence.getImage(t, z), t, z, names, bounds);
                    List<RegionResult> results = classifier.classify(tiles);
                    PlaneRegions.lines(results).forEach(System.out::println);
                    if (sequence.getSizeT() * sequence.getSizeZ() == 1) {
                        nameRois(rois, results);
                    }
                }
            }
        } catch (BioclassException failure) {
            MessageDialog.showDialog("bioclass", failure.toString(), MessageDialog.ERROR_MESSAGE);
        }
    }

    /** In a single-plane sequence ROI i got result i (when none was clipped away): name it after its class. */
    private static void nameRois(List<ROI2D> rois, List<RegionResult> results) {
        if (rois.size() != results.size()) {
            return;
        }
        for (int i = 0; i < rois.size(); i++) {
            if (!results.get(i).failed()) {
                rois.get(i).setName(results.get(i).label());
            }
        }
    }

    @Override
    public void clean() {
    }
}
