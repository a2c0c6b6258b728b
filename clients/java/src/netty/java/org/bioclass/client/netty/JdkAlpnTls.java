package org.bioclass.client.netty;

import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.JdkApplicationProtocolNegotiator;
import io.netty.handler.ssl.JdkSslClientContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.File;
import java.lang.reflect.Constructor;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * TLS for grpc-netty where Netty's JDK provider lacks ALPN: Debian's Netty 4.1.48 ships without
 * JdkAlpnApplicationProtocolNegotiator (it was tied to Jetty's ALPN jars), so grpc-java refuses
 * TlsChannelCredentials with "JDK provider does not support ALPN protocol", although Java 9+ has ALPN
 * in SSLEngine and the same Netty still has the engine that uses it (Java9SslEngine, package-private).
 * This negotiator offers h2 through that engine. Compiled only by clients/java/build.sh (against
 * unshaded Netty); GrpcBioclassClient loads it by name when the transport refuses TLS, so builds with
 * grpc-netty-shaded (QuPath, Icy), whose Netty has ALPN, never need it.
 */
public final class JdkAlpnTls {
    private static final List<String> HTTP2 = Collections.singletonList("h2");

    private JdkAlpnTls() {
    }

    /** A channel builder speaking TLS: trusting caCertificate (null: the JDK's CAs), with an optional client
     * certificate and PKCS#8 key (both null: none). */
    public static ManagedChannelBuilder<?> channelBuilder(String target, File caCertificate, File clientCertificate,
                                                         File clientKey) throws SSLException {
        @SuppressWarnings("deprecation")  // the one public constructor that takes a JDK negotiator
        SslContext context = new JdkSslClientContext(caCertificate, null, clientCertificate, clientKey, null, null,
                Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE, new Http2Negotiator(), 0, 0);
        return NettyChannelBuilder.forTarget(target).sslContext(context);
    }

    @SuppressWarnings("deprecation")
    private static final class Http2Negotiator implements JdkApplicationProtocolNegotiator {
        private static final Constructor<?> JAVA9_ENGINE = java9Engine();

        private static Constructor<?> java9Engine() {
            try {
                Constructor<?> constructor = Class.forName("io.netty.handler.ssl.Java9SslEngine")
                        .getDeclaredConstructor(SSLEngine.class, JdkApplicationProtocolNegotiator.class, boolean.class);
                constructor.setAccessible(true);
                return constructor;
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("this Netty has no Java9SslEngine: " + e, e);
            }
        }

        @Override
        public List<String> protocols() {
            return HTTP2;
        }

        @Override
        public SslEngineWrapperFactory wrapperFactory() {
            return (engine, negotiator, isServer) -> {
                try {
                    return (SSLEngine) JAVA9_ENGINE.newInstance(engine, negotiator, isServer);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot enable ALPN on the TLS engine: " + e, e);
                }
            };
        }

        @Override
        public ProtocolSelectorFactory protocolSelectorFactory() {
            throw new UnsupportedOperationException("client only");
        }

        /** A server without ALPN or choosing another protocol: grpc-java then fails the handshake itself. */
        @Override
        public ProtocolSelectionListenerFactory protocolListenerFactory() {
            return (engine, protocols) -> new ProtocolSelectionListener() {
                @Override
                public void unsupported() {
                }

                @Override
                public void selected(String protocol) throws Exception {
                    if (!protocols.contains(protocol)) {
                        throw new SSLHandshakeException("the server chose protocol " + protocol + ", not h2");
                    }
                }
            };
        }
    }
}
