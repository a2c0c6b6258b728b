package org.bioclass.imagej;

import ij.Prefs;
import org.bioclass.client.ConnectionSettings;
import org.bioclass.client.GrpcBioclassClient;

/**
 * The token and TLS settings every command uses, saved by Server Settings (bioclass) in IJ_Prefs:
 * paths only, never the token itself (a token file, or BIOCLASS_TOKEN), so that neither the prefs nor a
 * recorded macro hold the secret. An empty setting falls back to the environment variables of the
 * Java client (BIOCLASS_TOKEN, BIOCLASS_TLS_CA, BIOCLASS_TLS_CERT, BIOCLASS_TLS_KEY).
 */
final class ServerConnection {
    static final String TOKEN_FILE_PREF = "bioclass.token_file";
    static final String CA_PREF = "bioclass.tls_ca";
    static final String CERT_PREF = "bioclass.tls_cert";
    static final String KEY_PREF = "bioclass.tls_key";

    private ServerConnection() {
    }

    /** Throws BioclassException INVALID_ARGUMENT when a token file, certificate or key cannot be used. */
    static GrpcBioclassClient open(String server) {
        return open(server, GrpcBioclassClient.DEFAULT_DEADLINE_SECONDS);
    }

    static GrpcBioclassClient open(String server, long deadlineSeconds) {
        return new GrpcBioclassClient(server, settings(), deadlineSeconds);
    }

    static ConnectionSettings settings() {
        return ConnectionSettings.fromEnvironment().tokenFile(Prefs.get(TOKEN_FILE_PREF, ""))
                .caCertificate(Prefs.get(CA_PREF, ""))
                .clientCertificate(Prefs.get(CERT_PREF, ""), Prefs.get(KEY_PREF, ""));
    }
}
