package org.bioclass.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.measure.ResultsTable;
import ij.plugin.PlugIn;
import java.io.File;
import java.util.Arrays;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;

/**
 * Plugins>bioclass>Classify Folder (bioclass): opens every image of a folder with ImageJ and
 * classifies it as Classify Image would (every slice), appending the rows to Results.
 * <pre>run("Classify Folder (bioclass)", "server=127.0.0.1:50051 folder=/data/cells model=MODEL top=1");</pre>
 */
public class Classify_Folder implements PlugIn {
    private static final String TITLE = "Classify Folder (bioclass)";

    @Override
    public void run(String arg) {
        String[] serverAndFolder = BioclassDialogs.askServerAndFolder(TITLE);
        if (serverAndFolder == null) {
            return;
        }
        File folder = new File(serverAndFolder[1]);
        if (!folder.isDirectory()) {
            Failures.report("not a folder: " + folder);
            return;
        }
        try (GrpcBioclassClient client = ServerConnection.open(serverAndFolder[0])) {
            BioclassDialogs.ModelChoice choice = BioclassDialogs.askModel(TITLE, client);
            if (choice != null) {
                classifyAll(folder, new SliceClassifier(client, choice.modelId, choice.top));
            }
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }

    private static void classifyAll(File folder, SliceClassifier classifier) {
        File[] files = folder.listFiles(file -> file.isFile() && !file.getName().startsWith("."));
        Arrays.sort(files);
        ResultsTable table = ResultsTable.getResultsTable();
        for (int i = 0; i < files.length; i++) {
            IJ.showProgress(i, files.length);
            ImagePlus image = IJ.openImage(files[i].getPath());
            if (image == null) {
                IJ.log("bioclass: skipped " + files[i].getName() + " (not an image ImageJ can open)");
                continue;
            }
            ResultsRows.add(table, files[i].getName(), classifier.classify(image));
            image.close();
        }
        IJ.showProgress(1.0);
        table.show("Results");
    }
}
