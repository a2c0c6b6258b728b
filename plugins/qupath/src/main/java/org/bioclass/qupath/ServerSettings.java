package org.bioclass.qupath;

import javafx.beans.property.StringProperty;
import org.bioclass.client.ConnectionSettings;
import org.bioclass.client.GrpcBioclassClient;
import qupath.lib.gui.dialogs.Dialogs;
import qupath.lib.gui.prefs.PathPrefs;

/**
 * Extensions>bioclass>Server settings: the server and how to reach it, kept in QuPath's persistent
 * preferences: a token file (its first line is the token; the token itself is never stored), the TLS CA
 * certificate and, for mutual TLS, a client certificate and PKCS#8 key. Empty: the environment
 * variables BIOCLASS_TOKEN, BIOCLASS_TLS_CA, BIOCLASS_TLS_CERT, BIOCLASS_TLS_KEY. Glue only (not
 * compiled here); the settings are the Java client's ConnectionSettings, tested in tests/java.
 */
final class ServerSettings {
    static final StringProperty SERVER = PathPrefs.createPersistentPreference("bioclass.server", "127.0.0.1:50051");
    private static final StringProperty TOKEN_FILE = PathPrefs.createPersistentPreference("bioclass.tokenFile", "");
    private static final StringProperty CA = PathPrefs.createPersistentPreference("bioclass.tlsCa", "");
    private static final StringProperty CERT = PathPrefs.createPersistentPreference("bioclass.tlsCert", "");
    private static final StringProperty KEY = PathPrefs.createPersistentPreference("bioclass.tlsKey", "");

    private ServerSettings() {
    }

    /** Asks for each setting in turn (Cancel keeps the rest unchanged). */
    static void edit() {
        if (ask(SERVER, "Server (host:port)") && ask(TOKEN_FILE, "Token file (empty: $BIOCLASS_TOKEN or none)")
                && ask(CA, "TLS CA certificate, PEM (empty: $BIOCLASS_TLS_CA, else plaintext)")
                && ask(CERT, "Client certificate for mutual TLS, PEM (empty: $BIOCLASS_TLS_CERT or none)")) {
            ask(KEY, "Client key, PEM PKCS#8 (empty: $BIOCLASS_TLS_KEY or none)");
        }
    }

    /** Throws BioclassException INVALID_ARGUMENT when a token file, certificate or key cannot be used. */
    static GrpcBioclassClient open(String server) {
        return open(server, GrpcBioclassClient.DEFAULT_DEADLINE_SECONDS);
    }

    /** With a deadline of its own for each call (a stream: the whole stream). */
    static GrpcBioclassClient open(String server, long deadlineSeconds) {
        ConnectionSettings settings = ConnectionSettings.fromEnvironment().tokenFile(TOKEN_FILE.get())
                .caCertificate(CA.get()).clientCertificate(CERT.get(), KEY.get());
        return new GrpcBioclassClient(server, settings, deadlineSeconds);
    }

    private static boolean ask(StringProperty setting, String prompt) {
        String value = Dialogs.showInputDialog("bioclass server settings", prompt, setting.get());
        if (value == null) {
            return false;
        }
        setting.set(value.trim());
        return true;
    }
}
