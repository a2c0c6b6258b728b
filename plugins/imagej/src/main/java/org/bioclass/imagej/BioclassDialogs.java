package org.bioclass.imagej;

import ij.Prefs;
import ij.gui.GenericDialog;
import java.util.List;
import org.bioclass.client.BioclassException;
import org.bioclass.client.BioclassClient;
import org.bioclass.client.ModelInfo;

/**
 * The macro-recordable dialogs: first the server (and a folder when asked), then a model chosen from
 * the server's own list and the number of labels. A macro gives them all at once:
 * {@code server=127.0.0.1:50051 model=MODEL_ID top=3}.
 */
final class BioclassDialogs {
    static final String DEFAULT_SERVER = "127.0.0.1:50051";
    static final String SERVER_PREF = "bioclass.server";
    private static final String MODEL_PREF = "bioclass.model";
    private static final String TOP_PREF = "bioclass.top";

    private BioclassDialogs() {
    }

    /** The server address, or null when cancelled. */
    static String askServer(String title) {
        GenericDialog dialog = new GenericDialog(title);
        dialog.addStringField("server", Prefs.get(SERVER_PREF, DEFAULT_SERVER), 24);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return null;
        }
        String server = dialog.getNextString().trim();
        Prefs.set(SERVER_PREF, server);
        return server;
    }

    /** Server and folder, or null when cancelled. */
    static String[] askServerAndFolder(String title) {
        GenericDialog dialog = new GenericDialog(title);
        dialog.addStringField("server", Prefs.get(SERVER_PREF, DEFAULT_SERVER), 24);
        dialog.addDirectoryField("folder", Prefs.get("bioclass.folder", ""));
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return null;
        }
        String server = dialog.getNextString().trim();
        String folder = dialog.getNextString().trim();
        Prefs.set(SERVER_PREF, server);
        Prefs.set("bioclass.folder", folder);
        return new String[] {server, folder};
    }

    /** The model and top-k chosen among the server's models, or null when cancelled. */
    static ModelChoice askModel(String title, BioclassClient client) {
        List<ModelInfo> models = client.listModels();
        if (models.isEmpty()) {
            throw new BioclassException("NOT_FOUND", "the server offers no models");
        }
        String[] ids = new String[models.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = models.get(i).id();
        }
        GenericDialog dialog = new GenericDialog(title);
        dialog.addChoice("model", ids, Prefs.get(MODEL_PREF, ids[0]));
        dialog.addNumericField("top", Prefs.get(TOP_PREF, 3), 0);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return null;
        }
        ModelChoice choice = new ModelChoice(dialog.getNextChoice(), (int) Math.max(1, dialog.getNextNumber()));
        Prefs.set(MODEL_PREF, choice.modelId);
        Prefs.set(TOP_PREF, choice.top);
        return choice;
    }

    static final class ModelChoice {
        final String modelId;
        final int top;

        ModelChoice(String modelId, int top) {
            this.modelId = modelId;
            this.top = top;
        }
    }
}
