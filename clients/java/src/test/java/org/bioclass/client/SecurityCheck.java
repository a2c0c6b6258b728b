package org.bioclass.client;

import java.util.Arrays;
import java.util.List;

/**
 * GrpcBioclassClient against a server with a token and/or TLS, for tests/java: one unary call, one
 * stream and one server-streaming call, each printing its outcome or "error CODE message".
 * Usage: SecurityCheck ADDRESS MODEL [token=T] [token-file=F] [ca=F] [cert=F key=F] [tls]
 * With no settings the client takes them from the environment (BIOCLASS_TOKEN, BIOCLASS_TLS_*).
 */
public final class SecurityCheck {
    private static final int SIZE = 8;

    public static void main(String[] args) {
        String address = args[0];
        String model = args[1];
        List<String> options = Arrays.asList(args).subList(2, args.length);
        try (GrpcBioclassClient client = open(address, options)) {
            print("list", () -> {
                for (ModelInfo info : client.listModels()) {
                    if (info.id().equals(model)) {
                        return "has " + model;
                    }
                }
                return "lacks " + model;
            });
            print("predict", () -> client.predict(model, white(), 1).label());
            print("stream", () -> {
                StringBuilder labels = new StringBuilder();
                for (Prediction prediction : client.predictMany(model, Arrays.asList(white(), black()), 1)) {
                    labels.append(prediction.failed() ? prediction.errorCode() : prediction.label()).append(' ');
                }
                return labels.toString().trim();
            });
            // WatchJob is server-streaming: an unknown job id is NOT_FOUND only once the token passed.
            print("watch", () -> client.watchJob("no-such-job", null).state());
        } catch (BioclassException e) {
            System.out.println("open " + Outcomes.error(e));
        }
    }

    private static GrpcBioclassClient open(String address, List<String> options) {
        if (options.isEmpty()) {
            return new GrpcBioclassClient(address, 20);
        }
        ConnectionSettings settings = new ConnectionSettings();
        String certificate = null;
        String key = null;
        for (String option : options) {
            String name = option.split("=", 2)[0];
            String value = option.contains("=") ? option.split("=", 2)[1] : "";
            switch (name) {
                case "token": settings.token(value); break;
                case "token-file": settings.tokenFile(value); break;
                case "ca": settings.caCertificate(value); break;
                case "cert": certificate = value; break;
                case "key": key = value; break;
                case "tls": settings.tls(true); break;
                default: throw new IllegalArgumentException("unknown option " + option);
            }
        }
        settings.clientCertificate(certificate, key);
        return new GrpcBioclassClient(address, settings, 20);
    }

    private interface Call {
        String run();
    }

    private static void print(String what, Call call) {
        try {
            System.out.println(what + " " + call.run());
        } catch (BioclassException e) {
            System.out.println(what + " " + Outcomes.error(e));
        }
    }

    private static ImageInput white() {
        byte[] pixels = new byte[SIZE * SIZE];
        Arrays.fill(pixels, (byte) 255);
        return ImageInput.gray8(pixels, SIZE, SIZE, "white");
    }

    private static ImageInput black() {
        return ImageInput.gray8(new byte[SIZE * SIZE], SIZE, SIZE, "black");
    }
}
