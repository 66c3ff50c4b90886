package attnspark.job;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkException;

/**
 * The one line a failed job prints: the root cause's own message (a task's CheckpointException
 * reaches the driver wrapped in a SparkException whose message repeats the whole stack trace),
 * on one line and of bounded length.
 */
final class FailureMessage {
    static final int MAX_CHARS = 2000;
    /** "... most recent failure: Lost task 0.0 in stage 0.0 (TID 0) (host executor driver): a.b.SomeException: message". */
    private static final Pattern TASK_FAILURE =
            Pattern.compile("most recent failure: Lost task .*?\\(TID \\d+\\) \\([^)]*\\): (?:[\\w$.]+: )?(.*)");

    private static final Pattern CAUSED_BY = Pattern.compile("Caused by: ([\\w$.]+): (.*)");

    private FailureMessage() {}

    static String of(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t && (isWrapper(t) || t.getMessage() == null)) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        boolean plain = t instanceof IllegalArgumentException
                || t instanceof IllegalStateException
                || t.getClass().getName().startsWith("attnspark.");
        if (isWrapper(t) && msg != null) {
            String shipped = fromTaskFailureText(msg);
            if (shipped != null) {
                msg = shipped;
                plain = true;
            }
        }
        String line = msg == null || msg.isBlank()
                ? t.getClass().getName()
                : plain ? msg : t.getClass().getSimpleName() + ": " + msg;
        // a stack trace inside a message (Spark's habit) is not part of the line
        int trace = line.indexOf("\n\tat ");
        if (trace >= 0) line = line.substring(0, trace);
        line = line.replaceAll("\\s*\\R\\s*", " ").strip();
        if (line.length() > MAX_CHARS) {
            line = line.substring(0, MAX_CHARS) + "... (" + (line.length() - MAX_CHARS)
                    + " more characters; --verbose shows all)";
        }
        return line;
    }

    /**
     * A task exception Spark could not ship survives only as text in the SparkException's
     * message: the first attnspark exception among its "Caused by:" lines, else the task's own.
     */
    private static String fromTaskFailureText(String msg) {
        Matcher cause = CAUSED_BY.matcher(msg);
        while (cause.find()) {
            if (cause.group(1).startsWith("attnspark.")) return cause.group(2);
        }
        Matcher m = TASK_FAILURE.matcher(msg);
        return m.find() ? m.group(1) : null;
    }

    private static boolean isWrapper(Throwable t) {
        return t instanceof SparkException
                || t instanceof ExecutionException
                || t instanceof CompletionException
                || t instanceof InvocationTargetException
                || t instanceof UndeclaredThrowableException;
    }
}
