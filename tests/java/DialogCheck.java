import ij.IJ;
import ij.ImageJ;
import ij.Prefs;
import java.awt.Checkbox;
import java.awt.Choice;
import java.awt.Component;
import java.awt.Container;
import java.awt.Dialog;
import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.Window;
import java.awt.event.WindowEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one bioclass command from the menu as a person would (no macro) in ImageJ's GUI, for tests/java:
 * prints every dialog the command opens (its title, text fields and choices with their items), cancels
 * each, and prints "done" when the command has returned. Launched as a single-file program:
 * java -cp IJ_AND_JARS DialogCheck.java SERVER "Classify Image (bioclass)" org.bioclass.imagej.Classify_Image
 */
public final class DialogCheck {
    public static void main(String[] args) throws Exception {
        new ImageJ();
        Prefs.set("bioclass.server", args[0]);
        IJ.createImage("cell", "8-bit white", 16, 16, 1).show();
        Thread command = new Thread(() -> IJ.runPlugIn(args[2], ""));
        command.start();
        List<Dialog> seen = new ArrayList<>();
        long until = System.currentTimeMillis() + 30_000;
        while (command.isAlive() && System.currentTimeMillis() < until) {
            for (Window window : Window.getWindows()) {
                if (window.isShowing() && window instanceof Dialog && !seen.contains(window)) {
                    seen.add((Dialog) window);
                    Thread.sleep(300); // let it lay out its fields
                    EventQueue.invokeAndWait(() -> describe((Dialog) window));
                    window.dispatchEvent(new WindowEvent(window, WindowEvent.WINDOW_CLOSING));
                }
            }
            Thread.sleep(100);
        }
        command.join(5_000);
        System.out.println(command.isAlive() ? "still running" : "done");
        System.exit(0);
    }

    private static void describe(Dialog dialog) {
        System.out.println("dialog " + dialog.getTitle());
        for (Component field : components(dialog)) {
            if (field instanceof TextField) {
                System.out.println("text " + ((TextField) field).getText());
            } else if (field instanceof Choice) {
                Choice choice = (Choice) field;
                StringBuilder items = new StringBuilder();
                for (int i = 0; i < choice.getItemCount(); i++) {
                    items.append(i == 0 ? "" : ",").append(choice.getItem(i));
                }
                System.out.println("choice " + items);
            } else if (field instanceof Checkbox) {
                System.out.println("checkbox " + ((Checkbox) field).getLabel());
            }
        }
    }

    private static List<Component> components(Container container) {
        List<Component> found = new ArrayList<>();
        for (Component child : container.getComponents()) {
            found.add(child);
            if (child instanceof Container) {
                found.addAll(components((Container) child));
            }
        }
        return found;
    }
}
