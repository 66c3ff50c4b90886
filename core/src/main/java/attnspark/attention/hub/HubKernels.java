package attnspark.attention.hub;

import attnspark.attention.AttentionFunction;
import attnspark.attention.MaskFormatter;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.attention.paged.PagedAttention;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * HF's {@code load_and_register_attn_kernel} (integrations/hub_kernels): turn a name such as
 * {@code kernels-community/flash-attn2@main:fwd} into a registered attention backend.
 * Instead of downloading from the Hub, kernels are {@link AttentionKernel} implementations found
 * by {@link ServiceLoader} on the context class path and in the jars of a kernels directory.
 *
 * <p>The <b>full original string</b> is the registry key (HF does the same), so
 * {@code org/repo@v2} and {@code org/repo} are distinct backends.
 */
public final class HubKernels {
    /** HF's trusted namespace: these repos load without allowAllKernels. */
    public static final String TRUSTED_NAMESPACE = "kernels-community";

    /** Repos trusted explicitly, as HF trusts a model's {@code _compatible_flash_implementations}. */
    private static final Set<String> TRUSTED_REPOS = ConcurrentHashMap.newKeySet();

    /** Names this class registered: re-requesting one only re-checks trust, it does not reload. */
    private static final Set<String> REGISTERED = ConcurrentHashMap.newKeySet();

    /** One class loader per set of jars, kept open: the registered functions live in them. */
    private static final Map<List<Path>, URLClassLoader> DIR_LOADERS = new ConcurrentHashMap<>();

    /** HF's {@code allow_all_hub_kernels()} context: what models built on this thread use. */
    private static final ThreadLocal<KernelSource> SCOPE = ThreadLocal.withInitial(() -> KernelSource.DEFAULT);

    private HubKernels() {}

    /** Trust {@code org/repo} without allowAllKernels (process-wide). */
    public static void trust(String repo) {
        TRUSTED_REPOS.add(KernelName.parse(repo).repo());
    }

    public static boolean isTrusted(String repo) {
        return repo.startsWith(TRUSTED_NAMESPACE + "/") || TRUSTED_REPOS.contains(repo);
    }

    /** The kernel source models constructed on this thread start with (see {@link #withSource}). */
    public static KernelSource currentSource() {
        return SCOPE.get();
    }

    /**
     * Runs {@code body} (typically a {@code fromPretrained}) with {@code source} as the kernel
     * source of every model it constructs; HF sets {@code ALLOW_ALL_KERNELS} around
     * from_pretrained the same way. Restored afterwards, also on exceptions.
     */
    public static <T> T withSource(KernelSource source, Supplier<T> body) {
        KernelSource before = SCOPE.get();
        SCOPE.set(source == null ? KernelSource.DEFAULT : source);
        try {
            return body.get();
        } finally {
            SCOPE.set(before);
        }
    }

    /**
     * Makes sure the kernel name is registered: checks trust every time (as HF re-checks on every
     * set), loads only if this class has not registered the name yet. A name the user registered
     * by hand in {@code AttentionInterface} is left alone.
     */
    public static void ensureRegistered(String name, KernelSource source) {
        KernelSource s = source == null ? KernelSource.DEFAULT : source;
        KernelName k = KernelName.parse(name);
        if (REGISTERED.contains(name) && AttentionInterface.ALL.containsGlobal(name)) {
            checkTrust(k, s.allowAllKernels());
            return;
        }
        if (AttentionInterface.ALL.containsGlobal(name)) return;
        loadAndRegister(name, s.allowAllKernels(), s.kernelsDir());
    }

    /**
     * Finds the kernel for {@code name}, registers its function under {@code name} in
     * {@link AttentionInterface} and a mask formatter under the same name in
     * {@link AttentionMaskInterface}, and returns the registered function.
     *
     * @throws IllegalArgumentException for a malformed name, or "An error occurred while trying to
     *                                  load from 'repo': ..." for anything that went wrong loading
     */
    public static AttentionFunction loadAndRegister(String name, boolean allowAllKernels, Path kernelsDir) {
        KernelName k = KernelName.parse(name);
        try {
            checkTrust(k, allowAllKernels);
            Found found = find(k, kernelsDir);
            AttentionFunction fn = pickFunction(k, found.kernel);
            AttentionFunction registered = k.paged() ? new PagedAttention(name, fn) : fn;
            AttentionInterface.register(name, registered);
            // paged functions build their mask from the cache and refuse one (HF #48296), so a
            // paged kernel name gets no formatter: create_*_mask hands it null, as for paged|sdpa.
            if (!k.paged()) AttentionMaskInterface.register(name, maskFormatter(found.kernel));
            REGISTERED.add(name);
            return registered;
        } catch (RuntimeException | ServiceConfigurationError | LinkageError e) {
            // a broken jar (bad services file, missing class, wrong Java version) is a load failure too
            throw new IllegalArgumentException(
                    "An error occurred while trying to load from '" + k.repo() + "': " + e.getMessage(), e);
        }
    }

    private static void checkTrust(KernelName k, boolean allowAllKernels) {
        if (!allowAllKernels && !isTrusted(k.repo())) {
            throw new IllegalArgumentException("'" + k.repo() + "' is not in the trusted namespace " + TRUSTED_NAMESPACE
                    + "; pass allowAllKernels=true (--allow-all-kernels) if you trust it, or trust the repo with"
                    + " HubKernels.trust(\"" + k.repo() + "\")");
        }
    }

    private record Found(AttentionKernel kernel, String where) {}

    private static Found find(KernelName k, Path kernelsDir) {
        List<Found> all = discover(kernelsDir);
        List<Found> sameRepo = new ArrayList<>();
        for (Found f : all) if (k.repo().equals(f.kernel.repo())) sameRepo.add(f);
        if (sameRepo.isEmpty()) {
            List<String> seen = new ArrayList<>();
            for (Found f : all) seen.add(f.kernel.repo() + "@" + f.kernel.revision() + " (" + f.where + ")");
            throw new IllegalArgumentException("no AttentionKernel with repo '" + k.repo() + "' was found. Found: "
                    + (seen.isEmpty() ? "none" : seen) + ". Looked in: the class path" + describeDir(kernelsDir)
                    + ". A kernel jar lists its class in META-INF/services/" + AttentionKernel.class.getName()
                    + "; put the jar in --kernels-dir or on the class path");
        }
        Set<String> revisions = new LinkedHashSet<>();
        for (Found f : sameRepo) revisions.add(f.kernel.revision());
        String wanted = k.revision();
        if (wanted == null) {
            // HF's default revision is main; a kernel published under one other revision is still unambiguous
            for (Found f : sameRepo) if ("main".equals(f.kernel.revision())) return f;
            if (revisions.size() == 1) return sameRepo.get(0);
            throw new IllegalArgumentException("'" + k.repo() + "' exists in revisions " + revisions
                    + " and none is main; pick one with " + k.repo() + "@<revision>");
        }
        for (Found f : sameRepo) if (wanted.equals(f.kernel.revision())) return f;
        throw new IllegalArgumentException(
                "revision '" + wanted + "' of '" + k.repo() + "' was not found; available revisions: " + revisions);
    }

    private static String describeDir(Path kernelsDir) {
        if (kernelsDir == null) return " (no kernels directory given; use --kernels-dir DIR for jars elsewhere)";
        return " and " + jars(kernelsDir).size() + " jar(s) in " + kernelsDir.toAbsolutePath();
    }

    private static AttentionFunction pickFunction(KernelName k, AttentionKernel kernel) {
        Map<String, AttentionFunction> fns = kernel.functions();
        String name = k.function();
        if (name == null) name = kernel.defaultFunction();
        if (name == null) {
            if (fns.size() == 1) return fns.values().iterator().next();
            throw new IllegalArgumentException("kernel '" + k.repo() + "' exports " + new TreeMap<>(fns).keySet()
                    + " and has no default function; name one as " + k.repo() + ":<function>");
        }
        AttentionFunction fn = fns.get(name);
        if (fn == null) {
            throw new IllegalArgumentException("kernel '" + k.repo() + "' has no function '" + name + "'; it exports "
                    + new TreeMap<>(fns).keySet());
        }
        return fn;
    }

    /** The kernel's declared format, else HF's: flash_attention_2's formatter when registered, else sdpa's. */
    private static MaskFormatter maskFormatter(AttentionKernel kernel) {
        String format = kernel.maskFormat();
        if (format != null) {
            MaskFormatter f = AttentionMaskInterface.ALL.lookup(format);
            if (f == null) {
                throw new IllegalArgumentException("kernel '" + kernel.repo() + "' asks for the mask format '" + format
                        + "', which is not registered; registered: " + AttentionMaskInterface.ALL.validKeys());
            }
            return f;
        }
        MaskFormatter flash = AttentionMaskInterface.ALL.lookup("flash_attention_2");
        return flash != null ? flash : AttentionMaskInterface.ALL.lookup(AttentionInterface.SDPA);
    }

    /** Every kernel on the context class path, then every kernel only in the kernels directory's jars. */
    private static List<Found> discover(Path kernelsDir) {
        List<Found> out = new ArrayList<>();
        Set<Class<?>> seen = new HashSet<>();
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context == null) context = HubKernels.class.getClassLoader();
        collect(ServiceLoader.load(AttentionKernel.class, context), "class path", seen, out);
        if (kernelsDir != null) {
            List<Path> jars = jars(kernelsDir);
            if (!jars.isEmpty()) {
                URLClassLoader loader = DIR_LOADERS.computeIfAbsent(jars, HubKernels::newLoader);
                // the parent delegates to attnspark's classes; kernels already seen on the class path are skipped
                collect(ServiceLoader.load(AttentionKernel.class, loader), kernelsDir.toString(), seen, out);
            }
        }
        return out;
    }

    private static void collect(
            ServiceLoader<AttentionKernel> loader, String where, Set<Class<?>> seen, List<Found> out) {
        for (ServiceLoader.Provider<AttentionKernel> p :
                (Iterable<ServiceLoader.Provider<AttentionKernel>>) loader.stream()::iterator) {
            if (seen.add(p.type())) out.add(new Found(p.get(), where));
        }
    }

    private static List<Path> jars(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(
                    "kernels directory " + dir.toAbsolutePath() + " does not exist or is not a directory");
        }
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path p : ds) jars.add(p.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        jars.sort(null);
        return jars;
    }

    private static URLClassLoader newLoader(List<Path> jars) {
        URL[] urls = new URL[jars.size()];
        try {
            for (int i = 0; i < urls.length; i++) urls[i] = jars.get(i).toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
        return new URLClassLoader("attnspark-kernels", urls, AttentionKernel.class.getClassLoader());
    }
}
