import ij.IJ;
import ij.ImageJ;
import ij.Prefs;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.frame.Recorder;
import java.awt.Button;
import java.awt.Choice;
import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.Window;
import java.awt.event.ActionEvent;

/**
 * Runs Classify Tiles (bioclass) from the menu with the Recorder open, as a person would: picks the model
 * in the dialog, types the tile size, presses OK; prints the line the Recorder wrote ("recorded ..."),
 * then replays that line as a macro on a fresh copy of the image and prints the images it made.
 * java -cp IJ_AND_JARS RecordCheck.java SERVER MODEL IMAGE
 */
public final class RecordCheck {
    public static void main(String[] args) throws Exception {
        new ImageJ();
        Prefs.set("bioclass.server", args[0]);
        new Recorder();
        IJ.openImage(args[2]).show();
        // As the menu runs it: the Executer tells the Recorder, the dialog records its fields on OK.
        Thread command = new Thread(() -> new ij.Executer("Classify Tiles (bioclass)",
                WindowManager.getCurrentImage()));
        command.start();
        GenericDialog dialog = awaitDialog();
        EventQueue.invokeAndWait(() -> {
            ((Choice) dialog.getChoices().get(0)).select(args[1]);
            ((TextField) dialog.getNumericFields().get(0)).setText("50");
            Button ok = dialog.getButtons()[0];
            dialog.actionPerformed(new ActionEvent(ok, ActionEvent.ACTION_PERFORMED, ok.getLabel()));
        });
        String recorded = awaitRecorded();
        System.out.println("recorded " + recorded);
        IJ.openImage(args[2]).show();
        IJ.runMacro("rename(\"replayed\");\n" + recorded + "\nprint(\"replayed: \" + nImages);");
        for (int id : WindowManager.getIDList()) {
            System.out.println("image " + WindowManager.getImage(id).getTitle());
        }
        System.exit(0);
    }

    private static GenericDialog awaitDialog() throws InterruptedException {
        for (long until = System.currentTimeMillis() + 30_000; System.currentTimeMillis() < until; ) {
            for (Window window : Window.getWindows()) {
                if (window.isShowing() && window instanceof GenericDialog) {
                    Thread.sleep(300); // let it lay out its fields
                    return (GenericDialog) window;
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no dialog opened");
    }

    private static String awaitRecorded() throws InterruptedException {
        for (long until = System.currentTimeMillis() + 60_000; System.currentTimeMillis() < until; ) {
            for (String line : Recorder.getInstance().getText().split("\n")) {
                if (line.startsWith("run(\"Classify Tiles (bioclass)\"")) {
                    return line;
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("nothing recorded: " + Recorder.getInstance().getText());
    }
}
