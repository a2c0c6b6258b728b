package org.bioclass.imagej;

import ij.IJ;
import ij.Macro;
import ij.macro.Interpreter;
import java.awt.GraphicsEnvironment;
import org.bioclass.client.BioclassException;

/**
 * Reports a failed command without ever blocking or stopping a macro: one line in the Log (and a
 * Details line with the server's or transport's own words when they differ), kept for {@link #getError()}; an error box
 * too only when a person ran the command from the menu (no macro, no batch mode, a display).
 * A macro tests the outcome with
 * <pre>error = call("org.bioclass.imagej.Failures.getError"); // "" when the last command succeeded</pre>
 */
public final class Failures {
    static final String TITLE = "bioclass";
    private static volatile String lastError = "";

    private Failures() {
    }

    /** The last bioclass command's error in one line, or "" when it succeeded (for macros, via call()). */
    public static String getError() {
        return lastError;
    }

    /** Every command starts with a clean slate, so getError() speaks of the last one only. */
    static void clear() {
        lastError = "";
    }

    static void report(BioclassException failure) {
        boolean saysMore = !failure.detail().equals(failure.getMessage());
        report(failure.getMessage(), saysMore ? failure.code() + ": " + failure.detail() : null);
    }

    static void report(String message) {
        report(message, null);
    }

    private static void report(String message, String details) {
        lastError = message;
        IJ.log(TITLE + ": " + message);
        if (details != null) {
            IJ.log(TITLE + ": Details: " + details);
        }
        if (interactive()) {
            IJ.showMessage(TITLE, message); // unlike IJ.error(title, ...), never aborts a macro
        }
    }

    /** A person at the menu, who can close a dialog; never in a macro, in batch mode or headless. */
    static boolean interactive() {
        return !GraphicsEnvironment.isHeadless() && !Interpreter.isBatchMode() && Macro.getOptions() == null
                && Interpreter.getInstance() == null;
    }
}
