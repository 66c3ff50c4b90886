package attnspark.testutil;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on what an error message says. */
public final class Messages {
    private Messages() {}

    /** {@code e}'s message contains each of {@code parts}; a failure names the part it lacks and shows the message. */
    public static void assertMentions(Throwable e, String... parts) {
        String m = e.getMessage();
        for (String p : parts) assertTrue(m != null && m.contains(p), "message should mention '" + p + "': " + m);
    }
}
