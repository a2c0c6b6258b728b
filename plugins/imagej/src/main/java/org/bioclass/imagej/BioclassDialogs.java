package org.bioclass.imagej;

import ij.Prefs;
import ij.gui.GenericDialog;
import java.util.List;
import org.bioclass.client.BioclassException;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.ModelInfo;

/**
 * Every command asks all it needs in ONE macro-recordable dialog: the server, the model (listed from the
 * last server used, when a person runs it from the menu), and the command's own fields. A macro gives
 * them all at once: {@code server=127.0.0.1:50051 model=MODEL_ID top=3}.
 */
final class BioclassDialogs {
    static final String DEFAULT_SERVER = "127.0.0.1:50051";
    static final String SERVER_PREF = "bioclass.server";
    private static final String MODEL_PREF = "bioclass.model";
    private static final String TOP_PREF = "bioclass.top";
    private static final String FOLDER_PREF = "bioclass.folder";
    /** Listing the models to fill the dialog must not keep a person waiting on a silent server. */
    private static final long LIST_DEADLINE_SECONDS = 5;

    private BioclassDialogs() {
    }

    /** A dialog that starts with the server field (the last server used). */
    static GenericDialog withServer(String title) {
        GenericDialog dialog = new GenericDialog(title);
        dialog.addStringField("server", Prefs.get(SERVER_PREF, DEFAULT_SERVER), 24);
        return dialog;
    }

    static String nextServer(GenericDialog dialog) {
        String server = dialog.getNextString().trim();
        Prefs.set(SERVER_PREF, server);
        return server;
    }

    /** The model field: the models of the last server used, or a text field (a macro, or no list). */
    static FreeChoice addModel(GenericDialog dialog) {
        String[] ids = Failures.interactive() ? modelIds(dialog, Prefs.get(SERVER_PREF, DEFAULT_SERVER))
                : new String[0];
        return FreeChoice.add(dialog, "model", ids, Prefs.get(MODEL_PREF, ids.length > 0 ? ids[0] : ""));
    }

    static String nextModel(GenericDialog dialog, FreeChoice field) {
        String model = field.next(dialog);
        Prefs.set(MODEL_PREF, model);
        return model;
    }

    /** Server, model and top-k (and a folder when withFolder) in one dialog, or null when cancelled. */
    static Request ask(String title, boolean withFolder) {
        GenericDialog dialog = withServer(title);
        if (withFolder) {
            dialog.addDirectoryField("folder", Prefs.get(FOLDER_PREF, ""));
        }
        FreeChoice model = addModel(dialog);
        dialog.addNumericField("top", Prefs.get(TOP_PREF, 3), 0);
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return null;
        }
        String server = nextServer(dialog);
        String folder = withFolder ? dialog.getNextString().trim() : "";
        Request request = new Request(server, folder, nextModel(dialog, model),
                (int) Math.max(1, dialog.getNextNumber()));
        Prefs.set(FOLDER_PREF, withFolder ? folder : Prefs.get(FOLDER_PREF, ""));
        Prefs.set(TOP_PREF, request.top);
        return request;
    }

    /** The server's model ids; none (and a line in the dialog saying why) when it cannot be asked. */
    private static String[] modelIds(GenericDialog dialog, String server) {
        try (GrpcBioclassClient client = ServerConnection.open(server, LIST_DEADLINE_SECONDS)) {
            List<ModelInfo> models = client.listModels();
            String[] ids = new String[models.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = models.get(i).id();
            }
            return ids;
        } catch (BioclassException failure) {
            dialog.addMessage(failure.getMessage() + "\nType the model id, or fix the server and run again.");
            return new String[0];
        }
    }

    static final class Request {
        final String server;
        final String folder;
        final String modelId;
        final int top;

        Request(String server, String folder, String modelId, int top) {
            this.server = server;
            this.folder = folder;
            this.modelId = modelId;
            this.top = top;
        }
    }
}
