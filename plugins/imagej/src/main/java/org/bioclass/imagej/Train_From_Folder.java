package org.bioclass.imagej;

import ij.IJ;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import java.util.Locale;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.JobStatus;
import org.bioclass.client.TrainSettings;

/**
 * Plugins>bioclass>Train from Folder (bioclass): trains a classifier on the server from a
 * class-per-folder directory (FOLDER/CLASS/IMAGE). The folder path is read by the server, on its own
 * disk: ImageJ and the server must share it (same machine or shared storage), and it must lie in the
 * server's data roots. Shows the job's progress, logs its lines, waits for the end and logs the new
 * model's id (or why the job failed, in one line). Esc cancels the job.
 * <pre>run("Train from Folder (bioclass)", "server=127.0.0.1:50051 folder=/data/cells arch=mobilenetv3_small_050 epochs=1 image=32 model=my-model");</pre>
 * Optional keys: batch=N rate=LEARNING_RATE threads=N (0: the server's defaults) and overwrite.
 */
public class Train_From_Folder implements PlugIn {
    private static final String TITLE = "Train from Folder (bioclass)";
    /**
     * Recommended first, in the order the CLI and napari offer them: a compact CNN for a few dozen labels
     * per class (trained from scratch), then a small pretrained-style network, then larger ones.
     */
    static final String[] ARCHITECTURES = {"bioclass:small_cnn3", "mobilenetv3_small_100", "mobilenetv3_large_100",
        "efficientnet_b0", "efficientnet_lite0", "resnet18", "mnasnet_100", "mixnet_s", "resnet50", "densenet121",
        "bioclass:small_cnn4", "mobilenetv3_small_050"};

    @Override
    public void run(String arg) {
        Failures.clear();
        GenericDialog dialog = BioclassDialogs.withServer(TITLE);
        dialog.addDirectoryField("folder", Prefs.get("bioclass.train.folder", ""));
        dialog.addMessage("The folder is read by the server: give its path on the server's machine.");
        FreeChoice arch = FreeChoice.add(dialog, "arch", ARCHITECTURES,
                Prefs.get("bioclass.train.arch", ARCHITECTURES[0]));
        dialog.addNumericField("epochs", Prefs.get("bioclass.train.epochs", 10), 0);
        dialog.addNumericField("image size (px)", Prefs.get("bioclass.train.image", 224), 0);
        dialog.addStringField("model id (empty: ARCH-JOBID)", "", 24);
        dialog.addNumericField("batch size (0: default)", 0, 0);
        dialog.addNumericField("rate (learning rate, 0: finder)", 0, 6);
        dialog.addNumericField("threads (0: all cores)", 0, 0);
        dialog.addCheckbox("overwrite a model with that id", false);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        String server = BioclassDialogs.nextServer(dialog);
        String folder = dialog.getNextString().trim();
        TrainSettings settings = new TrainSettings().architecture(arch.next(dialog))
                .epochs((int) dialog.getNextNumber()).imageSize((int) dialog.getNextNumber())
                .modelId(dialog.getNextString().trim()).batchSize((int) dialog.getNextNumber())
                .learningRate(dialog.getNextNumber()).threads((int) dialog.getNextNumber())
                .overwrite(dialog.getNextBoolean());
        Prefs.set("bioclass.train.folder", folder);
        Prefs.set("bioclass.train.arch", settings.architecture());
        Prefs.set("bioclass.train.epochs", settings.epochs());
        Prefs.set("bioclass.train.image", settings.imageSize());
        if (folder.isEmpty()) {
            Failures.report("no folder given");
            return;
        }
        try (GrpcBioclassClient client = ServerConnection.open(server)) {
            train(client, folder, settings);
        } catch (BioclassException failure) {
            Failures.report(failure);
        }
    }

    private static void train(GrpcBioclassClient client, String folder, TrainSettings settings) {
        String jobId = client.trainFromServerFolder(folder, settings);
        IJ.log("bioclass: training job " + jobId + " queued (" + settings.architecture() + ", " + folder + ")");
        boolean[] cancelled = {false};
        IJ.resetEscape();
        JobStatus done = client.watchJob(jobId, update -> {
            for (String line : update.log()) {
                IJ.log("bioclass job " + jobId + ": " + line);
            }
            IJ.showProgress(update.fraction());
            IJ.showStatus(status(update));
            if (!cancelled[0] && !update.finished() && IJ.escapePressed()) {
                cancelled[0] = true;
                IJ.log("bioclass: cancelling job " + jobId);
                try {
                    client.cancelJob(jobId);
                } catch (BioclassException ignored) {
                    // it has just finished: the stream ends with its final state
                }
            }
        });
        IJ.showProgress(1.0);
        IJ.showStatus("");
        if (done.succeeded()) {
            IJ.log("bioclass: job " + jobId + " succeeded: model " + done.modelId());
        } else {
            String reason = done.error().isEmpty() ? done.state().toLowerCase(Locale.ROOT)
                    : done.error().split("\n", 2)[0];
            Failures.report("job " + jobId + " " + done.state() + ": " + reason);
        }
    }

    private static String status(JobStatus update) {
        StringBuilder text = new StringBuilder("bioclass job ").append(update.id()).append(": ")
                .append(update.state().toLowerCase(Locale.ROOT));
        if (!update.stage().isEmpty()) {
            text.append(", ").append(update.stage());
            if (update.epochs() > 0) {
                text.append(" epoch ").append(update.epoch()).append('/').append(update.epochs());
            }
            if (update.steps() > 0) {
                text.append(" step ").append(update.step()).append('/').append(update.steps());
            }
            if (update.loss() > 0) {
                text.append(String.format(Locale.ROOT, " loss %.4f", update.loss()));
            }
        }
        return text.toString();
    }
}
