package org.bioclass.client;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place that turns a failed call's status into a message a biologist can act on: what went
 * wrong in lab words and the next step. The server's or transport's own words stay in
 * {@link BioclassException#detail()}. The Python client says the same things in the same words.
 */
public final class UserMessages {
    private static final Pattern UNKNOWN_MODEL = Pattern.compile("unknown model '([^']*)'(?:; served models: (.*))?");
    private static final Pattern LOAD_FAILED = Pattern.compile("model (\\S+) cannot be (?:loaded|restarted): (.*)");
    /** Technical load failures and how to say them: framework words in, plain words out. */
    private static final String[][] LOAD_REASONS = {
        {"(?i).*(INVALID_PROTOBUF|Protobuf parsing failed|DecodeError|ModelProto).*", "its file is not a valid ONNX model"},
        {"(?i).*(PytorchStreamReader|invalid load key|zip archive).*", "its file is not a valid PyTorch model"},
        {"(?i).*(file signature not found|Unable to open file|not a valid Keras).*", "its file is not a valid Keras model"},
        {"weights file (\\S+) is missing", "its weights file $1 is missing"},
        {"network rejects input .*", "the network does not accept the input size its card gives"},
        {"network outputs shape .*", "the network's outputs do not match the labels its card lists"},
        {"(?i).*(killed by signal|exited with status).*", "its process on the server stopped while loading"},
    };

    private UserMessages() {
    }

    /**
     * The exception for a failed call to {@code server}: {@code answered} is true when the server itself
     * sent the status, false when the transport could not reach it; {@code deadlineSeconds} is the
     * deadline the call had.
     */
    public static BioclassException failure(String code, String detail, String server, long deadlineSeconds,
                                            boolean answered, Throwable cause) {
        String said = detail == null || detail.isEmpty() ? code : detail;
        return new BioclassException(code, message(code, said, server, deadlineSeconds, answered), said, cause);
    }

    /**
     * Whether an UNAVAILABLE message comes from a running server (a model process that stopped, a helper
     * that died: it names the model or the process) rather than from a transport that found no server.
     */
    public static boolean spokenByServer(String description) {
        return description != null && (description.startsWith("model ") || description.contains("process"));
    }

    static String message(String code, String detail, String server, long deadlineSeconds, boolean answered) {
        switch (code) {
            case "UNAVAILABLE":
                return answered ? "The bioclass server at " + server + " could not finish: " + detail
                        + ". Run the command again; if it fails again, read the server's log."
                        : "Cannot reach the bioclass server at " + server + ". Is `bioclass serve` running there?";
            case "DEADLINE_EXCEEDED":
                return "The bioclass server at " + server + " did not answer within " + deadlineSeconds
                        + " s: it is busy or the work is slow. Try again later or with fewer images.";
            case "UNAUTHENTICATED":
                return "The bioclass server at " + server + " refused the token. Give its token in Server Settings"
                        + " (a token file) or in BIOCLASS_TOKEN.";
            case "NOT_FOUND":
                return notFound(detail, server);
            case "FAILED_PRECONDITION":
                return notLoaded(detail);
            default:
                return detail;
        }
    }

    private static String notFound(String detail, String server) {
        Matcher unknown = UNKNOWN_MODEL.matcher(detail);
        if (!unknown.matches()) {
            return detail;
        }
        String models = unknown.group(2) == null ? "" : " Its models: " + unknown.group(2) + ".";
        return "Model " + unknown.group(1) + " is not on the bioclass server at " + server + "." + models;
    }

    private static String notLoaded(String detail) {
        Matcher failed = LOAD_FAILED.matcher(detail);
        if (!failed.matches()) {
            return detail;
        }
        return "Model " + failed.group(1) + " could not be loaded: " + plainReason(failed.group(2))
                + ". Choose another model, or fix its files on the server.";
    }

    private static String plainReason(String reason) {
        for (String[] rule : LOAD_REASONS) {
            if (reason.matches(rule[0])) {
                return reason.replaceFirst(rule[0], rule[1]);
            }
        }
        return reason;
    }
}
