package org.bioclass.imagej;

import ij.IJ;
import ij.macro.Interpreter;
import java.awt.GraphicsEnvironment;
import org.bioclass.client.BioclassException;

/**
 * Shows a failed call as one line: in the Log in batch mode, else in an error box. Like IJ.error,
 * it does not stop a macro; no rows are added, so a macro can test nResults.
 */
final class Failures {
    static final String TITLE = "bioclass";

    private Failures() {
    }

    static void report(BioclassException failure) {
        report(failure.code() + ": " + failure.getMessage());
    }

    static void report(String message) {
        if (GraphicsEnvironment.isHeadless() || Interpreter.isBatchMode()) {
            IJ.log(TITLE + ": " + message);
        } else {
            IJ.error(TITLE, message);
        }
    }
}
