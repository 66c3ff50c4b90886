package attnspark.attention.hub;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kernels-hub attention name, HF's {@code is_kernel} grammar:
 * {@code org/repo}, {@code org/repo@rev}, {@code org/repo:function}, {@code org/repo@rev:function},
 * each optionally prefixed by {@code paged|}. No URLs, no nested paths, no empty parts.
 *
 * <p>HF's regex is {@code ^[^/:]+/[^/:]+(?:@[^/:]+)?(?::[^/:]+)?$}. We also refuse {@code @}, {@code |}
 * and whitespace inside a part, so {@code a/b@r@s} and {@code paged|paged|a/b} are errors instead of
 * odd repo names.
 *
 * @param original the string exactly as the user gave it; this is the registry key
 * @param paged    the {@code paged|} prefix was present
 * @param revision null when not given (the kernel's default revision is used)
 * @param function null when not given (the kernel's default function is used)
 */
public record KernelName(
        String original, boolean paged, String org, String repoName, String revision, String function) {
    public static final String PAGED_PREFIX = "paged|";

    private static final Pattern GRAMMAR =
            Pattern.compile("^([^/:@|\\s]+)/([^/:@|\\s]+)(?:@([^/:@|\\s]+))?(?::([^/:@|\\s]+))?$");

    public static final String VALID_FORMS =
            "org/repo, org/repo@revision, org/repo:function, org/repo@revision:function"
                    + " (optionally prefixed by paged|), e.g. kernels-community/flash-attn2";

    /** True when {@code name} (after an optional {@code paged|}) follows the kernel grammar. */
    public static boolean isKernel(String name) {
        if (name == null) return false;
        String base = name.startsWith(PAGED_PREFIX) ? name.substring(PAGED_PREFIX.length()) : name;
        return GRAMMAR.matcher(base).matches();
    }

    /** Parses a kernel name; anything else fails with the valid forms. */
    public static KernelName parse(String name) {
        if (name == null) throw new IllegalArgumentException("kernel name is null; valid forms: " + VALID_FORMS);
        boolean paged = name.startsWith(PAGED_PREFIX);
        String base = paged ? name.substring(PAGED_PREFIX.length()) : name;
        Matcher m = GRAMMAR.matcher(base);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a kernel name. Valid forms: " + VALID_FORMS
                    + ". URLs and nested paths (a/b/c) are not accepted.");
        }
        return new KernelName(name, paged, m.group(1), m.group(2), m.group(3), m.group(4));
    }

    /** {@code org/repo}, without revision or function: what a kernel's {@link AttentionKernel#repo()} returns. */
    public String repo() {
        return org + "/" + repoName;
    }
}
