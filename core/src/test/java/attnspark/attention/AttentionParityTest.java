package attnspark.attention;

import static attnspark.attention.AttentionCapability.*;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.attention.hub.AttentionKernel;
import attnspark.attention.hub.HubKernels;
import attnspark.attention.hub.KernelName;
import attnspark.cache.PagedKvCache;
import attnspark.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The registry-driven parity suite. Every backend the build registers ({@link AttentionInterface#BUILT_IN})
 * and every function of every {@link AttentionKernel} that {@link ServiceLoader} finds on the class
 * path (plain and {@code paged|}) runs, through the registry and its own mask formatter, every case
 * of every capability it declares ({@link AttentionFunction#capabilities()}) against the float64
 * reference below; for each capability it does not declare, one case of it must be refused with an
 * exception whose message names the problem. Adding a backend (one class, one registration line or
 * one services entry) adds it here with no edit. Names that single tests register at run time are
 * test doubles, not backends, and are not part of the suite.
 *
 * <p>What the reference encodes (HF masking_utils and the backends' documented behaviour): causal
 * means key {@code j <= p} for the query at absolute position {@code p = past + i}; a padding key is
 * never visible; a sliding window w keeps {@code p - w < j}; a chunk c keeps keys in the query's chunk,
 * chunks counted from the row's first real token; packed sequences (position_ids restarting at 0)
 * see only their own sequence. Query rows that are padding are compared only for being finite (flash
 * returns zeros there, sdpa/eager values, HF's "compare non-pad rows"), and a fully masked row must
 * be zeros or eager's uniform average over every key (its finfo.min arithmetic).
 */
class AttentionParityTest {
    /** float32 backends against float64 on N(0,1) data with at most 129 keys: rounding stays far below this. */
    private static final double TOL = 1e-5;

    enum Kind {
        CAUSAL,
        BIDIRECTIONAL,
        WINDOW,
        CHUNKED,
        PACKED
    }

    enum Pad {
        NONE,
        LEFT,
        RIGHT,
        ONE_ROW_EMPTY
    }

    /**
     * One row of the parity table. {@code local} is the window or chunk size; {@code packed} the
     * sequence lengths of the single packed row.
     */
    record Case(
            String label,
            Set<AttentionCapability> needs,
            Kind kind,
            int batch,
            int hq,
            int hkv,
            int sq,
            int past,
            int d,
            Pad pad,
            int local,
            float softcap,
            boolean sinks,
            int[] packed) {
        static Case of(Kind kind, int batch, int hq, int hkv, int sq, int past, Pad pad) {
            Set<AttentionCapability> needs = EnumSet.of(MASKED);
            return new Case(
                    kind + " " + pad + " B" + batch + " Hq" + hq + "/Hkv" + hkv + " Sq" + sq + " past" + past,
                    needs,
                    kind,
                    batch,
                    hq,
                    hkv,
                    sq,
                    past,
                    8,
                    pad,
                    0,
                    0f,
                    false,
                    null);
        }

        Case local(int size) {
            Set<AttentionCapability> n = EnumSet.copyOf(needs);
            n.add(kind == Kind.WINDOW ? SLIDING_WINDOW : CHUNKED);
            return new Case(
                    label + (kind == Kind.WINDOW ? " window" : " chunk") + size,
                    n,
                    kind,
                    batch,
                    hq,
                    hkv,
                    sq,
                    past,
                    d,
                    pad,
                    size,
                    softcap,
                    sinks,
                    packed);
        }

        Case softcapped(float cap) {
            Set<AttentionCapability> n = EnumSet.copyOf(needs);
            n.add(SOFTCAP);
            return new Case(
                    label + " softcap" + cap, n, kind, batch, hq, hkv, sq, past, d, pad, local, cap, sinks, packed);
        }

        Case withSinks() {
            Set<AttentionCapability> n = EnumSet.copyOf(needs);
            n.add(SINKS);
            return new Case(label + " sinks", n, kind, batch, hq, hkv, sq, past, d, pad, local, softcap, true, packed);
        }

        Case headDim(int dim) {
            return new Case(
                    label + " D" + dim, needs, kind, batch, hq, hkv, sq, past, dim, pad, local, softcap, sinks, packed);
        }

        static Case packed(int... lengths) {
            int total = 0;
            for (int l : lengths) total += l;
            return new Case(
                    "PACKED " + Arrays.toString(lengths),
                    EnumSet.of(MASKED, AttentionCapability.PACKED),
                    Kind.PACKED,
                    1,
                    4,
                    2,
                    total,
                    0,
                    8,
                    Pad.NONE,
                    0,
                    0f,
                    false,
                    lengths);
        }

        int kvLength() {
            return past + sq;
        }
    }

    /** The whole table: GQA/MQA, padding on both sides, fully masked rows, decode, odd lengths, windows, chunks, packing, softcap, sinks. */
    static List<Case> table() {
        List<Case> t = new ArrayList<>();
        for (int L : new int[] {1, 7, 63, 65, 127, 129}) {
            for (Pad pad : Pad.values()) t.add(Case.of(Kind.CAUSAL, 2, 4, 2, L, 0, pad));
            t.add(Case.of(Kind.BIDIRECTIONAL, 2, 4, 2, L, 0, L == 1 ? Pad.ONE_ROW_EMPTY : Pad.RIGHT));
        }
        t.add(Case.of(Kind.BIDIRECTIONAL, 2, 4, 2, 33, 0, Pad.NONE));
        t.add(Case.of(Kind.BIDIRECTIONAL, 2, 4, 2, 33, 0, Pad.LEFT));
        t.add(Case.of(Kind.BIDIRECTIONAL, 2, 4, 2, 9, 0, Pad.ONE_ROW_EMPTY));
        for (int[] heads : new int[][] {{1, 1}, {4, 4}, {6, 2}, {4, 1}}) {
            t.add(Case.of(Kind.CAUSAL, 2, heads[0], heads[1], 33, 0, Pad.LEFT));
        }
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 17, 0, Pad.RIGHT).headDim(5));
        // a KV past: decode (one query) and a short continuation, bottom-right aligned
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 1, 40, Pad.NONE));
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 1, 40, Pad.LEFT));
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 5, 60, Pad.NONE));
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 5, 60, Pad.LEFT));
        for (int w : new int[] {1, 3, 16}) {
            for (Pad pad : new Pad[] {Pad.NONE, Pad.LEFT, Pad.RIGHT})
                t.add(Case.of(Kind.WINDOW, 2, 4, 2, 65, 0, pad).local(w));
        }
        t.add(Case.of(Kind.WINDOW, 2, 4, 2, 1, 40, Pad.LEFT).local(16));
        t.add(Case.of(Kind.WINDOW, 2, 4, 2, 129, 0, Pad.NONE).local(200)); // a window wider than the sequence
        for (Pad pad : new Pad[] {Pad.NONE, Pad.LEFT, Pad.RIGHT})
            t.add(Case.of(Kind.CHUNKED, 2, 4, 2, 65, 0, pad).local(16));
        t.add(Case.of(Kind.CHUNKED, 2, 4, 1, 63, 0, Pad.LEFT).local(4));
        t.add(Case.packed(20, 1, 30, 12));
        t.add(Case.packed(64, 65));
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 65, 0, Pad.LEFT).softcapped(1.5f));
        t.add(Case.of(Kind.BIDIRECTIONAL, 2, 4, 2, 63, 0, Pad.RIGHT).softcapped(2f));
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 65, 0, Pad.RIGHT).withSinks());
        t.add(Case.of(Kind.CAUSAL, 2, 4, 2, 1, 40, Pad.LEFT).withSinks());
        t.add(Case.of(Kind.WINDOW, 2, 4, 2, 129, 0, Pad.LEFT)
                .local(16)
                .softcapped(1.5f)
                .withSinks());
        return t;
    }

    /** Built-in names, then each ServiceLoader kernel function as {@code org/repo@rev:fn} and its {@code paged|} form. */
    static List<String> backendNames() {
        List<String> names = new ArrayList<>(AttentionInterface.BUILT_IN);
        names.sort(null);
        for (AttentionKernel k : ServiceLoader.load(AttentionKernel.class)) {
            List<String> fns = new ArrayList<>(k.functions().keySet());
            fns.sort(null);
            for (String fn : fns) {
                String name = k.repo() + "@" + k.revision() + ":" + fn;
                for (String n : new String[] {name, KernelName.PAGED_PREFIX + name}) {
                    // allowAllKernels: the suite vets every kernel on the class path, trusted or not
                    HubKernels.loadAndRegister(n, true, null);
                    names.add(n);
                }
            }
        }
        return names;
    }

    @Test
    void theSuiteSeesEveryBuiltInAndTheServiceLoaderTestKernel() {
        List<String> names = backendNames();
        assertTrue(
                names.containsAll(List.of("eager", "sdpa", "flex_attention", "flash_attention_2", "paged|sdpa")),
                names::toString);
        assertTrue(
                names.contains("kernels-community/test-attn@main:attention"), "ServiceLoader kernel missing: " + names);
        assertTrue(names.contains("paged|kernels-community/test-attn@v2:attention"), names::toString);
        for (String n : names) {
            Set<AttentionCapability> caps = AttentionInterface.ALL.get(n).capabilities();
            assertFalse(caps.contains(MASKED) && caps.contains(PAGED), n + " claims both calling conventions");
        }
    }

    @TestFactory
    List<DynamicNode> everyRegisteredBackendRunsTheParityTable() {
        List<Case> table = table();
        List<DynamicNode> out = new ArrayList<>();
        for (String name : backendNames()) {
            AttentionFunction fn = AttentionInterface.ALL.get(name);
            Set<AttentionCapability> caps = fn.capabilities();
            List<DynamicNode> tests = new ArrayList<>();
            if (caps.contains(MASKED)) {
                for (Case c : table) {
                    if (caps.containsAll(c.needs()))
                        tests.add(DynamicTest.dynamicTest(c.label(), () -> runMasked(name, c)));
                }
                for (AttentionCapability missing : EnumSet.complementOf(EnumSet.copyOf(caps))) {
                    if (missing == PAGED) continue; // a masked backend is never handed a cache
                    Case c = table.stream()
                            .filter(x -> x.needs().contains(missing))
                            .findFirst()
                            .orElseThrow();
                    tests.add(DynamicTest.dynamicTest(
                            "refuses " + missing + ": " + c.label(),
                            () -> assertRefused(missing, () -> runMasked(name, c))));
                }
            } else {
                // paged backends and unavailable ones must refuse a plain masked call (HF #48296: never silently
                // unmasked)
                Case c = Case.of(Kind.CAUSAL, 2, 4, 2, 7, 0, Pad.LEFT);
                tests.add(DynamicTest.dynamicTest(
                        "refuses a plain call: " + c.label(), () -> assertRefused(MASKED, () -> runMasked(name, c))));
            }
            if (caps.contains(PAGED)) {
                for (PagedCase c : pagedTable()) {
                    if (caps.containsAll(c.needs())) {
                        tests.add(DynamicTest.dynamicTest(c.label(), () -> runPaged(fn, c)));
                    } else {
                        AttentionCapability missing = c.needs().stream()
                                .filter(x -> !caps.contains(x))
                                .findFirst()
                                .orElseThrow();
                        tests.add(DynamicTest.dynamicTest(
                                "refuses " + missing + ": " + c.label(),
                                () -> assertRefused(missing, () -> runPaged(fn, c))));
                    }
                }
            } else if (!caps.contains(MASKED)) {
                PagedCase c = pagedTable().get(0);
                tests.add(DynamicTest.dynamicTest(
                        "refuses a paged call: " + c.label(), () -> assertRefused(PAGED, () -> runPaged(fn, c))));
            }
            assertFalse(tests.isEmpty(), name + " declares no capability the suite can run");
            out.add(DynamicContainer.dynamicContainer(name + " " + caps, tests));
        }
        return out;
    }

    /** Refused: an exception that says why (for a missing feature, naming it), never a silent answer. */
    private static void assertRefused(AttentionCapability missing, Runnable call) {
        RuntimeException e = assertThrows(RuntimeException.class, call::run, "expected a refusal of " + missing);
        assertTrue(
                e instanceof IllegalArgumentException
                        || e instanceof UnsupportedOperationException
                        || e instanceof IllegalStateException,
                "refusal of " + missing + " threw " + e);
        String msg = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        String keyword = switch (missing) {
            case SOFTCAP -> "softcap";
            case SINKS -> "s_aux";
            case CHUNKED -> "chunk";
            case SLIDING_WINDOW -> "window";
            case PACKED -> "pack";
            case MASKED, PAGED -> "";
        };
        assertTrue(
                msg.length() > 20 && msg.contains(keyword),
                "the refusal of " + missing + " must say why: " + e.getMessage());
    }

    // ---- masked backends ------------------------------------------------------------------------------------

    private static boolean[][] paddingMask(Case c) {
        int B = c.batch(), Skv = c.kvLength();
        if (c.pad() == Pad.NONE) return null;
        boolean[][] pm = new boolean[B][Skv];
        for (int b = 0; b < B; b++) {
            // row 0 padded by a third (at least one token), other rows real; ONE_ROW_EMPTY: row 0 all padding
            int pads = b != 0 ? 0 : c.pad() == Pad.ONE_ROW_EMPTY ? Skv : Math.max(1, Skv / 3);
            for (int j = 0; j < Skv; j++) pm[b][j] = c.pad() == Pad.RIGHT ? j < Skv - pads : j >= pads;
        }
        return pm;
    }

    private static int[][] positionIds(Case c) {
        if (c.packed() == null) return null;
        int[] pos = new int[c.sq()];
        int i = 0;
        for (int len : c.packed()) for (int p = 0; p < len; p++) pos[i++] = p;
        return new int[][] {pos};
    }

    private static FloatTensor gaussian(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    private static float[] sinkLogits(Random r, int H) {
        float[] s = new float[H];
        for (int h = 0; h < H; h++) s[h] = (float) r.nextGaussian() + 1f;
        return s;
    }

    private static AttentionModule module(boolean causal, int groups, float scaling, Integer window) {
        return new AttentionModule() {
            public boolean isCausal() {
                return causal;
            }

            public int layerIdx() {
                return 0;
            }

            public int numKeyValueGroups() {
                return groups;
            }

            public float scaling() {
                return scaling;
            }

            public Integer slidingWindow() {
                return window;
            }
        };
    }

    /** Builds the mask through the registry's formatter for {@code name}, calls the registered function, checks every row. */
    private static void runMasked(String name, Case c) {
        Random r = new Random(c.label().hashCode());
        int B = c.batch(), Hq = c.hq(), Hkv = c.hkv(), Sq = c.sq(), Skv = c.kvLength(), D = c.d();
        FloatTensor q = gaussian(r, B, Hq, Sq, D), k = gaussian(r, B, Hkv, Skv, D), v = gaussian(r, B, Hkv, Skv, D);
        float[] sinks = c.sinks() ? sinkLogits(r, Hq) : null;
        boolean[][] pm = paddingMask(c);
        int[][] pos = positionIds(c);
        boolean causal = c.kind() != Kind.BIDIRECTIONAL;
        Masks.MaskInputs in = Masks.MaskInputs.of(name, B, Sq, pm)
                .withPastLength(c.past())
                .withPositionIds(pos)
                .withCausal(causal);
        AttentionMask mask = switch (c.kind()) {
            case CAUSAL, PACKED -> Masks.createCausalMask(in);
            case BIDIRECTIONAL -> Masks.createBidirectionalMask(in);
            case WINDOW -> Masks.createSlidingWindowCausalMask(in, c.local());
            case CHUNKED -> Masks.createChunkedCausalMask(in, c.local());
        };
        Map<String, Object> kwargs = new LinkedHashMap<>();
        if (c.kind() == Kind.WINDOW) kwargs.put("sliding_window", c.local()); // HF mistral/qwen2 pass it
        if (pos != null) kwargs.put("position_ids", pos);
        if (c.softcap() > 0) kwargs.put("softcap", c.softcap());
        if (sinks != null) kwargs.put("s_aux", sinks);
        float scaling = (float) (1 / Math.sqrt(D));
        AttentionModule mod = module(causal, Hq / Hkv, scaling, c.kind() == Kind.WINDOW ? c.local() : null);
        FloatTensor got = AttentionInterface.ALL
                .get(name)
                .apply(mod, q, k, v, mask, kwargs)
                .output();
        assertArrayEquals(new int[] {B, Sq, Hq, D}, got.shape, "output layout (B, Sq, Hq, D)");

        int[] leftPad = new int[B];
        if (pm != null) for (int b = 0; b < B; b++) while (leftPad[b] < Skv && !pm[b][leftPad[b]]) leftPad[b]++;
        int[] seq = null;
        if (c.packed() != null) {
            seq = new int[Sq];
            int i = 0, s = 0;
            for (int len : c.packed()) {
                for (int p = 0; p < len; p++) seq[i++] = s;
                s++;
            }
        }
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < Sq; i++) {
                int p = c.past() + i;
                boolean[] visible = new boolean[Skv];
                int count = 0;
                for (int j = 0; j < Skv; j++) {
                    boolean see = pm == null || pm[b][j];
                    see &= switch (c.kind()) {
                        case CAUSAL -> j <= p;
                        case BIDIRECTIONAL -> true;
                        case WINDOW -> j <= p && j > p - c.local();
                        case CHUNKED ->
                            j <= p
                                    && Math.floorDiv(j - leftPad[b], c.local())
                                            == Math.floorDiv(p - leftPad[b], c.local());
                        case PACKED -> j <= p && seq[j] == seq[p];
                    };
                    visible[j] = see;
                    if (see) count++;
                }
                boolean realQuery = pm == null || pm[b][p];
                for (int h = 0; h < Hq; h++) {
                    int off = ((b * Sq + i) * Hq + h) * D;
                    String where = name + " " + c.label() + ": b=" + b + " i=" + i + " h=" + h;
                    for (int d = 0; d < D; d++) assertTrue(Float.isFinite(got.data[off + d]), where + " not finite");
                    if (count == 0) {
                        assertZerosOrUniform(got, off, v, b, h / (Hq / Hkv), Skv, D, where);
                    } else if (realQuery) {
                        double[] want = reference(
                                q,
                                k,
                                v,
                                b,
                                h,
                                Hq / Hkv,
                                i,
                                visible,
                                scaling,
                                c.softcap(),
                                sinks == null ? null : sinks[h]);
                        for (int d = 0; d < D; d++) {
                            assertEquals(want[d], got.data[off + d], TOL, where + " d=" + d);
                        }
                    }
                }
            }
        }
    }

    /** A fully masked row: zeros (sdpa, flash, flex, paged) or eager's uniform average of every value row. */
    private static void assertZerosOrUniform(
            FloatTensor got, int off, FloatTensor v, int b, int kvHead, int Skv, int D, String where) {
        boolean zeros = true, uniform = true;
        for (int d = 0; d < D; d++) {
            double mean = 0;
            for (int j = 0; j < Skv; j++) mean += v.data[((b * v.dim(1) + kvHead) * Skv + j) * D + d];
            mean /= Skv;
            zeros &= Math.abs(got.data[off + d]) <= 1e-6;
            uniform &= Math.abs(got.data[off + d] - mean) <= TOL;
        }
        assertTrue(zeros || uniform, where + ": a fully masked row must be zeros or the uniform average");
    }

    /** softmax(scaling * q·k [softcap] over visible keys [+ a sink column]) · v for one (b, h, i), in double. */
    private static double[] reference(
            FloatTensor q,
            FloatTensor k,
            FloatTensor v,
            int b,
            int h,
            int groups,
            int i,
            boolean[] visible,
            float scaling,
            float softcap,
            Float sink) {
        int Hq = q.dim(1), Sq = q.dim(2), D = q.dim(3), Hkv = k.dim(1), Skv = k.dim(2), Dv = v.dim(3);
        int kvh = h / groups;
        double[] s = new double[Skv];
        double max = sink == null ? Double.NEGATIVE_INFINITY : sink;
        for (int j = 0; j < Skv; j++) {
            if (!visible[j]) continue;
            double dot = 0;
            for (int d = 0; d < D; d++) {
                dot += (double) q.data[((b * Hq + h) * Sq + i) * D + d] * k.data[((b * Hkv + kvh) * Skv + j) * D + d];
            }
            s[j] = dot * scaling;
            if (softcap > 0) s[j] = softcap * Math.tanh(s[j] / softcap);
            max = Math.max(max, s[j]);
        }
        double sum = sink == null ? 0 : Math.exp(sink - max);
        for (int j = 0; j < Skv; j++) if (visible[j]) sum += (s[j] = Math.exp(s[j] - max));
        double[] o = new double[Dv];
        for (int j = 0; j < Skv; j++) {
            if (!visible[j]) continue;
            for (int d = 0; d < Dv; d++) o[d] += s[j] / sum * v.data[((b * Hkv + kvh) * Skv + j) * Dv + d];
        }
        return o;
    }

    // ---- paged backends ---------------------------------------------------------------------------------------

    /**
     * A sequence of forward steps on two cache sequences: {@code steps[t][b]} new tokens of row b at
     * step t (rows right-padded to the longest).
     */
    record PagedCase(
            String label,
            Set<AttentionCapability> needs,
            int hq,
            int hkv,
            int[][] steps,
            int window,
            float softcap,
            boolean sinks) {}

    static List<PagedCase> pagedTable() {
        int[][] odd = {{63, 1}, {1, 65}, {2, 1}, {1, 1}};
        List<PagedCase> t = new ArrayList<>();
        for (int[] heads : new int[][] {{4, 2}, {4, 4}, {3, 1}}) {
            t.add(new PagedCase(
                    "PAGED Hq" + heads[0] + "/Hkv" + heads[1] + " steps 63+1,1+65,2+1,1+1",
                    EnumSet.of(PAGED),
                    heads[0],
                    heads[1],
                    odd,
                    0,
                    0f,
                    false));
        }
        t.add(new PagedCase(
                "PAGED prefill 129 then decode",
                EnumSet.of(PAGED),
                4,
                2,
                new int[][] {{129, 127}, {1, 1}},
                0,
                0f,
                false));
        t.add(new PagedCase("PAGED window16", EnumSet.of(PAGED, SLIDING_WINDOW), 4, 2, odd, 16, 0f, false));
        t.add(new PagedCase("PAGED softcap1.5", EnumSet.of(PAGED, SOFTCAP), 4, 2, odd, 0, 1.5f, false));
        t.add(new PagedCase("PAGED sinks", EnumSet.of(PAGED, SINKS), 4, 2, odd, 0, 0f, true));
        return t;
    }

    private static void runPaged(AttentionFunction fn, PagedCase c) {
        Random r = new Random(c.label().hashCode());
        int B = 2, Hq = c.hq(), Hkv = c.hkv(), D = 8, groups = Hq / Hkv;
        float scaling = (float) (1 / Math.sqrt(D));
        int[] seqIds = {7, 3};
        PagedKvCache cache = new PagedKvCache(1, 64, 16, Hkv, D);
        List<List<float[]>> keys = List.of(new ArrayList<>(), new ArrayList<>()),
                values = List.of(new ArrayList<>(), new ArrayList<>());
        float[] sinks = c.sinks() ? sinkLogits(r, Hq) : null;
        for (int[] qLen : c.steps()) {
            int Sq = Math.max(qLen[0], qLen[1]);
            FloatTensor q = gaussian(r, B, Hq, Sq, D), k = gaussian(r, B, Hkv, Sq, D), v = gaussian(r, B, Hkv, Sq, D);
            int[] past = {keys.get(0).size(), keys.get(1).size()};
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < qLen[b]; i++) {
                    float[] kr = new float[Hkv * D], vr = new float[Hkv * D];
                    for (int g = 0; g < Hkv; g++) {
                        System.arraycopy(k.data, ((b * Hkv + g) * Sq + i) * D, kr, g * D, D);
                        System.arraycopy(v.data, ((b * Hkv + g) * Sq + i) * D, vr, g * D, D);
                    }
                    keys.get(b).add(kr);
                    values.get(b).add(vr);
                }
            }
            Map<String, Object> kwargs = new LinkedHashMap<>();
            kwargs.put("cache", cache);
            kwargs.put("seq_ids", seqIds);
            kwargs.put("query_lengths", qLen.clone());
            if (c.window() > 0) kwargs.put("sliding_window", c.window());
            if (c.softcap() > 0) kwargs.put("softcap", c.softcap());
            if (sinks != null) kwargs.put("s_aux", sinks);
            FloatTensor got = fn.apply(module(true, groups, scaling, null), q, k, v, null, kwargs)
                    .output();
            assertArrayEquals(new int[] {B, Sq, Hq, D}, got.shape);
            for (int b = 0; b < B; b++) {
                // the row's whole history as (1, Hkv, n, D) so the masked reference applies unchanged
                int n = keys.get(b).size();
                FloatTensor hk = FloatTensor.zeros(1, Hkv, n, D), hv = FloatTensor.zeros(1, Hkv, n, D);
                for (int j = 0; j < n; j++) {
                    for (int g = 0; g < Hkv; g++) {
                        System.arraycopy(keys.get(b).get(j), g * D, hk.data, (g * n + j) * D, D);
                        System.arraycopy(values.get(b).get(j), g * D, hv.data, (g * n + j) * D, D);
                    }
                }
                FloatTensor hq = FloatTensor.zeros(1, Hq, Sq, D);
                for (int h = 0; h < Hq; h++)
                    System.arraycopy(q.data, (b * Hq + h) * Sq * D, hq.data, h * Sq * D, Sq * D);
                for (int i = 0; i < Sq; i++) {
                    int p = past[b] + i;
                    boolean[] visible = new boolean[n];
                    for (int j = 0; j < n; j++) visible[j] = j <= p && (c.window() == 0 || j > p - c.window());
                    for (int h = 0; h < Hq; h++) {
                        int off = ((b * Sq + i) * Hq + h) * D;
                        String where = c.label() + ": step past " + past[b] + " b=" + b + " i=" + i + " h=" + h;
                        if (i >= qLen[b]) {
                            for (int d = 0; d < D; d++)
                                assertEquals(0f, got.data[off + d], where + ": padded query rows give zeros");
                            continue;
                        }
                        double[] want = reference(
                                hq,
                                hk,
                                hv,
                                0,
                                h,
                                groups,
                                i,
                                visible,
                                scaling,
                                c.softcap(),
                                sinks == null ? null : sinks[h]);
                        for (int d = 0; d < D; d++) assertEquals(want[d], got.data[off + d], TOL, where + " d=" + d);
                    }
                }
            }
        }
    }
}
