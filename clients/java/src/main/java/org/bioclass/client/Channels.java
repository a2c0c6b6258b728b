package org.bioclass.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/** The grpc-java channel of a GrpcBioclassClient: plaintext or TLS (optionally mutual), with an optional token. */
final class Channels {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Method JDK_ALPN_HELPER = jdkAlpnHelper();

    private Channels() {
    }

    /**
     * Grpc.newChannelBuilder with channel credentials, not NettyChannelBuilder: any transport on the
     * classpath serves (Debian's grpc-netty here, grpc-netty-shaded in the QuPath and Icy builds).
     */
    static ManagedChannel open(String address, ConnectionSettings connection, int maxMessageBytes) {
        ManagedChannelBuilder<?> builder = connection.usesTls() ? tlsChannelBuilder(address, connection)
                : Grpc.newChannelBuilder(address, InsecureChannelCredentials.create());
        if (connection.token() != null) {
            // One interceptor for every call, unary and streaming alike.
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + connection.token());
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return builder.maxInboundMessageSize(maxMessageBytes).build();
    }

    private static ManagedChannelBuilder<?> tlsChannelBuilder(String address, ConnectionSettings connection) {
        ChannelCredentials credentials = tlsCredentials(connection);
        try {
            return Grpc.newChannelBuilder(address, credentials);
        } catch (RuntimeException refused) {
            // Debian's Netty has no JDK ALPN negotiator: use the helper that gives it one, when it was built.
            if (String.valueOf(refused.getMessage()).contains("ALPN") && JDK_ALPN_HELPER != null) {
                return jdkAlpnChannelBuilder(address, connection);
            }
            throw unusableTls(connection, refused);
        }
    }

    private static ChannelCredentials tlsCredentials(ConnectionSettings connection) {
        TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
        try {
            if (connection.caCertificate() != null) {
                tls.trustManager(connection.caCertificate());
            }
            if (connection.clientCertificate() != null || connection.clientKey() != null) {
                if (connection.clientCertificate() == null || connection.clientKey() == null) {
                    throw new BioclassException("INVALID_ARGUMENT",
                            "a client certificate needs its key and a key its certificate");
                }
                requirePkcs8(connection.clientKey());
                tls.keyManager(connection.clientCertificate(), connection.clientKey());
            }
        } catch (IOException e) {
            throw new BioclassException("INVALID_ARGUMENT", "cannot read a TLS file: " + e.getMessage(), e);
        }
        return tls.build();
    }

    /** Netty reads PKCS#8 keys only: say how to convert the PKCS#1/SEC1 keys older OpenSSL wrote. */
    private static void requirePkcs8(File key) throws IOException {
        String text = new String(Files.readAllBytes(key.toPath()), StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new BioclassException("INVALID_ARGUMENT", "the TLS client key " + key + " is not PKCS#8: convert it"
                    + " with openssl pkcs8 -topk8 -nocrypt -in " + key + " -out client-pkcs8.key");
        }
    }

    /** org.bioclass.client.netty.JdkAlpnTls.channelBuilder, or null where it is not on the classpath. */
    private static Method jdkAlpnHelper() {
        try {
            return Class.forName("org.bioclass.client.netty.JdkAlpnTls").getMethod("channelBuilder", String.class,
                    File.class, File.class, File.class);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    private static ManagedChannelBuilder<?> jdkAlpnChannelBuilder(String address, ConnectionSettings connection) {
        try {
            return (ManagedChannelBuilder<?>) JDK_ALPN_HELPER.invoke(null, address, connection.caCertificate(),
                    connection.clientCertificate(), connection.clientKey());
        } catch (InvocationTargetException e) {
            throw unusableTls(connection, e.getCause());
        } catch (IllegalAccessException e) {
            throw unusableTls(connection, e);
        }
    }

    /** A certificate or key the TLS library cannot read (e.g. a key that is not PKCS#8). */
    private static BioclassException unusableTls(ConnectionSettings connection, Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new BioclassException("INVALID_ARGUMENT", "cannot use the TLS settings (" + connection + "): "
                + (root.getMessage() != null ? root.getMessage() : root.toString()), cause);
    }
}
