package org.bioclass.client;

/** A failed call: the gRPC status name (NOT_FOUND, UNAVAILABLE, ...) and the server's one-line message. */
public class BioclassException extends RuntimeException {
    private final String code;

    public BioclassException(String code, String message) {
        super(message);
        this.code = code;
    }

    public BioclassException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The gRPC status code name, e.g. "INVALID_ARGUMENT". */
    public String code() {
        return code;
    }

    /** "CODE: message", one line, for logs and dialogs. */
    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
