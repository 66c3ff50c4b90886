package attnspark.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CPU this JVM runs on, as Linux's {@code /proc/cpuinfo} names it: its vendor, for kernel
 * blocking that differs between vendors' cores (as OpenBLAS keeps its gemm blocking per core
 * type), and its model name, for the bench's record of the machine. Elsewhere both are unknown.
 */
public record CpuInfo(Vendor vendor, String modelName) {
    /** The vendors whose cores the kernels were measured on; everything else is {@code OTHER}. */
    public enum Vendor {
        INTEL,
        AMD,
        OTHER
    }

    private static final CpuInfo THIS_MACHINE = read(Path.of("/proc/cpuinfo"));

    /** This machine's CPU, read once. */
    public static CpuInfo thisMachine() {
        return THIS_MACHINE;
    }

    static CpuInfo read(Path cpuinfo) {
        try {
            return parse(Files.readAllLines(cpuinfo));
        } catch (IOException | RuntimeException e) {
            return parse(List.of()); // not Linux, or unreadable: unknown
        }
    }

    /** The first processor's {@code vendor_id} and {@code model name} lines. */
    static CpuInfo parse(List<String> lines) {
        String vendorId = field(lines, "vendor_id"), model = field(lines, "model name");
        Vendor vendor = switch (vendorId == null ? "" : vendorId) {
            case "GenuineIntel" -> Vendor.INTEL;
            case "AuthenticAMD" -> Vendor.AMD;
            default -> Vendor.OTHER;
        };
        return new CpuInfo(vendor, model == null ? "unknown" : model);
    }

    private static String field(List<String> lines, String name) {
        for (String l : lines) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).trim().equals(name))
                return l.substring(colon + 1).trim();
        }
        return null;
    }
}
