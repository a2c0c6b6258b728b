package org.bioclass.imagej;

import ij.gui.GenericDialog;

/**
 * A dialog field that lists known values for a person at the menu, and is plain text for a macro
 * (which may name a value the list does not hold, e.g. a model on another server) or when no list is
 * known. Same key either way, so recorded macros work in both.
 */
final class FreeChoice {
    private final boolean listed;

    private FreeChoice(boolean listed) {
        this.listed = listed;
    }

    static FreeChoice add(GenericDialog dialog, String key, String[] values, String chosen) {
        boolean listed = values.length > 0 && Failures.interactive();
        if (listed) {
            dialog.addChoice(key, values, chosen);
        } else {
            dialog.addStringField(key, chosen, 24);
        }
        return new FreeChoice(listed);
    }

    String next(GenericDialog dialog) {
        return listed ? dialog.getNextChoice() : dialog.getNextString().trim();
    }
}
