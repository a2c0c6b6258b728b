package org.bioclass.imagej;

import ij.IJ;
import ij.gui.GenericDialog;
import ij.measure.ResultsTable;
import ij.plugin.PlugIn;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.ModelInfo;

/**
 * Plugins>bioclass>List Models (bioclass): the server's models in a table "bioclass models"
 * (id, name, framework, labels) and in the Log.
 * <pre>run("List Models (bioclass)", "server=127.0.0.1:50051");</pre>
 */
public class List_Models implements PlugIn {
    private static final String TITLE = "List Models (bioclass)";

    @Override
    public void run(String arg) {
        Failures.clear();
        GenericDialog dialog = BioclassDialogs.withServer(TITLE);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String server = BioclassDialogs.nextServer(dialog);
        try (GrpcBioclassClient client = ServerConnection.open(server)) {
            ResultsTable table = new ResultsTable();
            for (ModelInfo model : client.listModels()) {
                String labels = String.join(";", model.labels());
                table.incrementCounter();
                table.addValue("id", model.id());
                table.addValue("name", model.name());
                table.addValue("framework", model.framework());
                table.addValue("labels", labels);
                IJ.log("bioclass model: " + model.id() + " (" + model.framework() + ") " + labels);
            }
            table.show("bioclass models");
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }
}
