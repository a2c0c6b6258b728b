package org.bioclass.client;

/** How the checks print a failure: "error CODE MESSAGE", then " | DETAIL" when the detail says more. */
final class Outcomes {
    private Outcomes() {
    }

    static String error(BioclassException e) {
        String detail = e.detail().equals(e.getMessage()) ? "" : " | " + e.detail();
        return "error " + e.code() + " " + e.getMessage() + detail;
    }
}
