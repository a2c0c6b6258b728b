package org.bioclass.client;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;

/**
 * How GrpcBioclassClient reaches a server: an optional bearer token and TLS (a trusted CA, and a
 * client certificate and key for mutual TLS). The same settings and environment variables as the
 * Python client: {@link #fromEnvironment()} reads BIOCLASS_TOKEN, BIOCLASS_TLS_CA, BIOCLASS_TLS_CERT
 * and BIOCLASS_TLS_KEY; the setters override them one by one. TLS is used when a CA or a client
 * certificate is given, or when {@link #tls(boolean)} asks for it (then the JDK's trusted CAs serve).
 * Keys must be PEM PKCS#8 ("BEGIN PRIVATE KEY", what OpenSSL 3 writes); convert an older
 * "BEGIN RSA PRIVATE KEY" with {@code openssl pkcs8 -topk8 -nocrypt -in old.key -out client.key}.
 */
public final class ConnectionSettings {
    public static final String TOKEN_VARIABLE = "BIOCLASS_TOKEN";
    public static final String CA_VARIABLE = "BIOCLASS_TLS_CA";
    public static final String CERT_VARIABLE = "BIOCLASS_TLS_CERT";
    public static final String KEY_VARIABLE = "BIOCLASS_TLS_KEY";

    private String token;
    private Boolean tls;
    private File caCertificate;
    private File clientCertificate;
    private File clientKey;

    /** No token, plaintext; the environment is not read. */
    public ConnectionSettings() {
    }

    /** The settings the environment variables give (unset or empty ones are left out). */
    public static ConnectionSettings fromEnvironment() {
        return fromVariables(System.getenv());
    }

    /** As fromEnvironment, from any map of variable names to values (for hosts with their own settings). */
    public static ConnectionSettings fromVariables(Map<String, String> variables) {
        ConnectionSettings settings = new ConnectionSettings();
        settings.token = blankToNull(variables.get(TOKEN_VARIABLE));
        settings.caCertificate = file(variables.get(CA_VARIABLE));
        settings.clientCertificate = file(variables.get(CERT_VARIABLE));
        settings.clientKey = file(variables.get(KEY_VARIABLE));
        return settings;
    }

    /** The bearer token sent as "authorization: Bearer TOKEN" with every call; null or empty: none. */
    public ConnectionSettings token(String token) {
        this.token = blankToNull(token);
        return this;
    }

    /** The token from the first non-empty line of a file (as `bioclass serve --token-file`): the server's token
     * or its admin token; null or empty path: unchanged. */
    public ConnectionSettings tokenFile(String path) {
        if (blankToNull(path) == null) {
            return this;
        }
        try {
            List<String> lines = Files.readAllLines(new File(path.trim()).toPath(), StandardCharsets.UTF_8);
            String first = lines.stream().map(String::trim).filter(line -> !line.isEmpty()).findFirst().orElse("");
            if (first.isEmpty()) {
                throw new BioclassException("INVALID_ARGUMENT", "the token file " + path.trim()
                        + " holds no token (the file is empty or blank)");
            }
            return token(first);
        } catch (NoSuchFileException e) {
            throw new BioclassException("INVALID_ARGUMENT", "cannot read the token file " + path.trim()
                    + ": no such file", e);
        } catch (IOException e) {
            throw new BioclassException("INVALID_ARGUMENT", "cannot read the token file " + path.trim() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Force TLS on (with the JDK's trusted CAs unless a CA is given) or off; unset: on when a CA or a
     * client certificate is given. */
    public ConnectionSettings tls(boolean tls) {
        this.tls = tls;
        return this;
    }

    /** PEM CA certificate(s) that the server's certificate must chain to; null or empty: unchanged. */
    public ConnectionSettings caCertificate(String path) {
        File given = file(path);
        caCertificate = given != null ? given : caCertificate;
        return this;
    }

    /** PEM client certificate and PKCS#8 key, for servers that require mutual TLS; null or empty: unchanged. */
    public ConnectionSettings clientCertificate(String certificatePath, String keyPath) {
        File certificate = file(certificatePath);
        File key = file(keyPath);
        clientCertificate = certificate != null ? certificate : clientCertificate;
        clientKey = key != null ? key : clientKey;
        return this;
    }

    public String token() {
        return token;
    }

    public File caCertificate() {
        return caCertificate;
    }

    public File clientCertificate() {
        return clientCertificate;
    }

    public File clientKey() {
        return clientKey;
    }

    public boolean usesTls() {
        return tls != null ? tls : caCertificate != null || clientCertificate != null;
    }

    /** For logs and dialogs: never the token itself. */
    @Override
    public String toString() {
        return (usesTls() ? "TLS" + (caCertificate != null ? " (CA " + caCertificate + ")" : "")
                + (clientCertificate != null ? ", client certificate " + clientCertificate : "") : "plaintext")
                + (token != null ? ", with a token" : "");
    }

    private static File file(String path) {
        String trimmed = blankToNull(path);
        return trimmed == null ? null : new File(trimmed);
    }

    private static String blankToNull(String text) {
        return text == null || text.trim().isEmpty() ? null : text.trim();
    }
}
