package attnspark.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The CPU this JVM runs on, as Linux's {@code /proc/cpuinfo} names it: its vendor, for kernel
 * blocking that differs between vendors' cores (as OpenBLAS keeps its gemm blocking per core
 * type), and what the bench records of the machine. A cloud VM's model name may say nothing of
 * the core ("Intel(R) Xeon(R) Processor" on a 2026 Xeon with AMX, "... @ 2.80GHz" on an Ice
 * Lake-SP), so the family and model numbers and the vector extensions the kernels could use are
 * kept too. Elsewhere all are unknown: vendor {@code OTHER}, model name "unknown", family and
 * model -1, no extensions.
 *
 * @param vectorIsa the extensions of {@link #VECTOR_ISA} the first processor's {@code flags} list, in that order
 */
public record CpuInfo(Vendor vendor, String modelName, int family, int model, List<String> vectorIsa) {
    /** The vendors whose cores the kernels were measured on; everything else is {@code OTHER}. */
    public enum Vendor {
        INTEL,
        AMD,
        OTHER
    }

    /** {@code /proc/cpuinfo} flags worth recording beside a figure: the SIMD and matrix units. */
    static final List<String> VECTOR_ISA = List.of("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile");

    private static final CpuInfo THIS_MACHINE = read(Path.of("/proc/cpuinfo"));
    private static final long L2_BYTES = l2Bytes(Path.of("/sys/devices/system/cpu/cpu0/cache"), 1L << 20);

    public CpuInfo {
        vectorIsa = List.copyOf(vectorIsa);
    }

    /** This machine's CPU, read once. */
    public static CpuInfo thisMachine() {
        return THIS_MACHINE;
    }

    /**
     * The first processor's L2 cache in bytes, as Linux's sysfs gives it (one core's on the x86
     * server parts the kernels were measured on); 1 MiB where it does not say.
     */
    public static long l2CacheBytes() {
        return L2_BYTES;
    }

    /**
     * The size of the level-2 data or unified cache among {@code cacheDir}'s {@code index*}
     * entries ({@code level}, {@code type}, {@code size} files, size as "2048K" or "1M"), or
     * {@code otherwise} when there is none or it cannot be read.
     */
    static long l2Bytes(Path cacheDir, long otherwise) {
        try (var entries = Files.list(cacheDir)) {
            for (Path index : entries.filter(p -> p.getFileName().toString().startsWith("index"))
                    .sorted()
                    .toList()) {
                String level = Files.readString(index.resolve("level")).trim();
                String type = Files.readString(index.resolve("type")).trim();
                if (!level.equals("2") || type.equals("Instruction")) continue;
                String size = Files.readString(index.resolve("size")).trim();
                long unit = switch (size.isEmpty() ? ' ' : size.charAt(size.length() - 1)) {
                    case 'K' -> 1L << 10;
                    case 'M' -> 1L << 20;
                    default -> 1;
                };
                long bytes = Long.parseLong(unit == 1 ? size : size.substring(0, size.length() - 1)) * unit;
                return bytes > 0 ? bytes : otherwise;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: the default below
        }
        return otherwise;
    }

    /** One line for logs: "AMD EPYC 9R14 96-Core Processor (family 25 model 17; avx2 fma avx512f avx512_bf16)". */
    public String describe() {
        return modelName + " (family " + family + " model " + model + "; "
                + (vectorIsa.isEmpty() ? "no vector extensions known" : String.join(" ", vectorIsa)) + ")";
    }

    static CpuInfo read(Path cpuinfo) {
        try {
            return parse(Files.readAllLines(cpuinfo));
        } catch (IOException | RuntimeException e) {
            return parse(List.of()); // not Linux, or unreadable: unknown
        }
    }

    /** The first processor's {@code vendor_id}, {@code model name}, {@code cpu family}, {@code model} and {@code flags} lines. */
    static CpuInfo parse(List<String> lines) {
        String vendorId = field(lines, "vendor_id"), name = field(lines, "model name"), flags = field(lines, "flags");
        Vendor vendor = switch (vendorId == null ? "" : vendorId) {
            case "GenuineIntel" -> Vendor.INTEL;
            case "AuthenticAMD" -> Vendor.AMD;
            default -> Vendor.OTHER;
        };
        Set<String> present = flags == null ? Set.of() : Set.of(flags.split("\\s+"));
        List<String> isa = new ArrayList<>();
        for (String f : VECTOR_ISA) if (present.contains(f)) isa.add(f);
        return new CpuInfo(
                vendor,
                name == null ? "unknown" : name,
                number(field(lines, "cpu family")),
                number(field(lines, "model")),
                isa);
    }

    private static int number(String value) {
        try {
            return value == null ? -1 : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The value of the first line named {@code name} (up to the colon, tabs trimmed), or null. */
    private static String field(List<String> lines, String name) {
        for (String l : lines) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).trim().equals(name))
                return l.substring(colon + 1).trim();
        }
        return null;
    }
}
