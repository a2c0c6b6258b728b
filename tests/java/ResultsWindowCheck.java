import ij.IJ;
import ij.ImageJ;
import ij.WindowManager;
import ij.text.TextPanel;
import ij.text.TextWindow;
import java.awt.Dialog;
import java.awt.EventQueue;
import java.awt.Frame;
import java.awt.Window;
import java.lang.reflect.Field;
import java.util.Arrays;

/**
 * Runs a macro in ImageJ's GUI (not batch mode) for tests/java, then prints what a person would see:
 * the Results window's columns and their widths in pixels, the window's visible width, any dialog
 * left open, and the Log. Launched as a single-file program: java -cp IJ_AND_JARS ResultsWindowCheck.java MACRO
 */
public final class ResultsWindowCheck {
    public static void main(String[] args) throws Exception {
        new ImageJ();
        IJ.runMacroFile(args[0]);
        Thread.sleep(1500); // the Results window computes its column widths when it first paints
        EventQueue.invokeAndWait(ResultsWindowCheck::report);
        System.exit(0);
    }

    private static void report() {
        Frame frame = WindowManager.getFrame("Results");
        if (frame instanceof TextWindow) {
            TextPanel panel = ((TextWindow) frame).getTextPanel();
            System.out.println("headings " + panel.getColumnHeadings().replace('\t', ','));
            System.out.println("widths " + Arrays.toString(columnWidths(panel)).replaceAll("[\\[\\] ]", ""));
            System.out.println("visible " + panel.getWidth());
        }
        for (Window window : Window.getWindows()) {
            if (window.isShowing() && window instanceof Dialog) {
                System.out.println("dialog " + ((Dialog) window).getTitle());
            }
        }
        System.out.println("log:");
        System.out.print(IJ.getLog());
    }

    /** TextPanel keeps the widths it computed from the headings and rows in a package field. */
    private static int[] columnWidths(TextPanel panel) {
        try {
            Field widths = TextPanel.class.getDeclaredField("iColWidth");
            widths.setAccessible(true);
            return (int[]) widths.get(panel);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
