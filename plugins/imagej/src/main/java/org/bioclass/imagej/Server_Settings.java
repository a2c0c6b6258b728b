package org.bioclass.imagej;

import ij.IJ;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import org.bioclass.client.BioclassException;

/**
 * Plugins>bioclass>Server Settings (bioclass): the default server and how to reach it, kept in
 * IJ_Prefs for every bioclass command: a token file (its first line is the token) and, for TLS, the CA
 * certificate and optionally a client certificate and PKCS#8 key (mutual TLS). Empty: the environment
 * variables BIOCLASS_TOKEN and BIOCLASS_TLS_*, else no token and plaintext. Logs what it saved.
 * <pre>run("Server Settings (bioclass)", "server=lab:50051 token_file=[/home/me/.bioclass-token] ca_certificate=[/home/me/ca.pem] client_certificate=[] client_key=[]");</pre>
 */
public class Server_Settings implements PlugIn {
    private static final String TITLE = "Server Settings (bioclass)";

    @Override
    public void run(String arg) {
        Failures.clear();
        GenericDialog dialog = new GenericDialog(TITLE);
        dialog.addStringField("server", Prefs.get(BioclassDialogs.SERVER_PREF, BioclassDialogs.DEFAULT_SERVER), 24);
        dialog.addFileField("token_file (first line: the token)", Prefs.get(ServerConnection.TOKEN_FILE_PREF, ""));
        dialog.addFileField("ca_certificate (PEM: use TLS)", Prefs.get(ServerConnection.CA_PREF, ""));
        dialog.addFileField("client_certificate (PEM, mutual TLS)", Prefs.get(ServerConnection.CERT_PREF, ""));
        dialog.addFileField("client_key (PEM PKCS#8)", Prefs.get(ServerConnection.KEY_PREF, ""));
        dialog.addMessage("Empty fields: $BIOCLASS_TOKEN, $BIOCLASS_TLS_CA, $BIOCLASS_TLS_CERT, $BIOCLASS_TLS_KEY.\n"
                + "The token itself is never saved: give a file that holds it.");
        dialog.showDialog();
        if (dialog.wasCanceled()) {
            return;
        }
        Prefs.set(BioclassDialogs.SERVER_PREF, dialog.getNextString().trim());
        Prefs.set(ServerConnection.TOKEN_FILE_PREF, dialog.getNextString().trim());
        Prefs.set(ServerConnection.CA_PREF, dialog.getNextString().trim());
        Prefs.set(ServerConnection.CERT_PREF, dialog.getNextString().trim());
        Prefs.set(ServerConnection.KEY_PREF, dialog.getNextString().trim());
        try {
            IJ.log("bioclass: server " + Prefs.get(BioclassDialogs.SERVER_PREF, "") + ", "
                    + ServerConnection.settings());
        } catch (BioclassException failure) {   // e.g. an unreadable token file: saved, but say so now
            Failures.report(failure);
        }
    }
}
