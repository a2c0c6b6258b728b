package org.bioclass.client;

/**
 * A failed call: the gRPC status name (NOT_FOUND, UNAVAILABLE, ...), a one-line message for the user that
 * says what to do next (see {@link UserMessages}), and the technical detail it was made from.
 */
public class BioclassException extends RuntimeException {
    private final String code;
    private final String detail;

    public BioclassException(String code, String message) {
        this(code, message, message, null);
    }

    public BioclassException(String code, String message, Throwable cause) {
        this(code, message, message, cause);
    }

    public BioclassException(String code, String message, String detail, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.detail = detail;
    }

    /** The gRPC status code name, e.g. "INVALID_ARGUMENT". */
    public String code() {
        return code;
    }

    /** What the server or the transport said, for a Details line or a bug report. */
    public String detail() {
        return detail;
    }

    /** "CODE: message", one line, for logs and dialogs. */
    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
