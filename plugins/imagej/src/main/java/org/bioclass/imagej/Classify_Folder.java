package org.bioclass.imagej;

import ij.IJ;
import ij.measure.ResultsTable;
import ij.plugin.PlugIn;
import java.io.File;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.Prediction;

/**
 * Plugins>bioclass>Classify Folder (bioclass): opens every image of a folder with ImageJ and classifies
 * it as Classify Image would (every slice), all through one server stream: the next files are read while
 * the earlier ones are classified. A file that is no image, cannot be read or is refused by the server is
 * skipped with one line in the Log; a summary line ends the run ("998 classified, 2 skipped: ...").
 * <pre>run("Classify Folder (bioclass)", "server=127.0.0.1:50051 folder=/data/cells model=MODEL top=1");</pre>
 */
public class Classify_Folder implements PlugIn {
    private static final String TITLE = "Classify Folder (bioclass)";
    /** Room for the slowest model and a large folder: the deadline covers the whole stream. */
    private static final long SECONDS_PER_FILE = 1;
    /** The summary names this many skipped files, then counts the others. */
    private static final int NAMED_IN_SUMMARY = 10;

    @Override
    public void run(String arg) {
        Failures.clear();
        BioclassDialogs.Request request = BioclassDialogs.ask(TITLE, true);
        if (request == null) {
            return;
        }
        File folder = new File(request.folder);
        if (!folder.isDirectory()) {
            Failures.report("Not a folder: " + folder + ". Give the folder that holds the images.");
            return;
        }
        FolderImages images = new FolderImages(folder);
        long deadline = GrpcBioclassClient.DEFAULT_DEADLINE_SECONDS + SECONDS_PER_FILE * images.fileCount();
        try (GrpcBioclassClient client = ServerConnection.open(request.server, deadline)) {
            client.getModel(request.modelId); // a missing server or model fails before any file is read
            classifyAll(client, request, images);
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }

    /** Rows for what was classified even when the stream fails half way (the failure is then reported). */
    private static void classifyAll(GrpcBioclassClient client, BioclassDialogs.Request request, FolderImages images) {
        Map<Integer, Prediction> answers = new ConcurrentHashMap<>();
        boolean complete = false;
        try {
            client.predictEach(request.modelId, images, request.top, (prediction, index) -> {
                answers.put(index, prediction);
                IJ.showProgress(Math.min(answers.size(), images.fileCount()), images.fileCount());
            });
            complete = true;
        } finally {
            IJ.showProgress(1.0);
            int classified = addRows(answers, images);
            summarize(request.folder, classified, images.skipped(), complete);
        }
    }

    /** Writes the rows in folder order and returns how many files were classified. */
    private static int addRows(Map<Integer, Prediction> answers, FolderImages images) {
        ResultsTable table = ResultsTable.getResultsTable();
        Set<String> classified = new LinkedHashSet<>();
        Set<String> refused = new LinkedHashSet<>();
        for (int index = 0; answers.containsKey(index); index++) {
            FolderImages.Source source = images.source(index);
            Prediction prediction = answers.get(index);
            if (prediction.failed()) {
                if (refused.add(source.name)) {
                    images.skip(source.name, "refused by the server (" + prediction.errorCode() + ": "
                            + prediction.error() + ")");
                }
                continue;
            }
            ResultsRows.add(table, source.name, source.slice, prediction);
            classified.add(source.name);
        }
        classified.removeAll(refused);
        table.show("Results");
        return classified.size();
    }

    private static void summarize(String folder, int classified, List<String> skipped, boolean complete) {
        StringBuilder summary = new StringBuilder().append(classified).append(" classified");
        if (!skipped.isEmpty()) {
            summary.append(", ").append(skipped.size()).append(" skipped: ");
            summary.append(String.join(", ", skipped.subList(0, Math.min(skipped.size(), NAMED_IN_SUMMARY))));
            if (skipped.size() > NAMED_IN_SUMMARY) {
                summary.append(" and ").append(skipped.size() - NAMED_IN_SUMMARY).append(" more");
            }
        }
        IJ.log(Failures.TITLE + ": " + folder + ": " + summary);
        if (classified == 0 && complete) {
            Failures.report("No image in " + folder + " could be classified (" + summary + ").");
        }
    }
}
