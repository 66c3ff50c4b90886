package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuInfoTest {
    private static final CpuInfo UNKNOWN = new CpuInfo(CpuInfo.Vendor.OTHER, "unknown", -1, -1, List.of());

    @Test
    void readsTheFirstProcessorsVendorModelAndVectorExtensions() {
        // lines as Linux prints them (tabs before the colon), cut from two cloud VMs' /proc/cpuinfo: an
        // Intel Xeon whose model name says nothing of its generation, and an AMD EPYC (Zen 4)
        CpuInfo intel = CpuInfo.parse(List.of(
                "processor\t: 0",
                "vendor_id\t: GenuineIntel",
                "cpu family\t: 6",
                "model\t\t: 167",
                "model name\t: Intel(R) Xeon(R) Processor",
                "stepping\t: 1",
                "flags\t\t: fpu vme sse sse2 avx fma avx2 avx512f avx512dq avx512_bf16 avx512_vbmi2 amx_bf16"
                        + " avx512_fp16 amx_tile amx_int8",
                "",
                "processor\t: 1",
                "vendor_id\t: AuthenticAMD",
                "model\t\t: 17"));
        assertEquals(
                new CpuInfo(
                        CpuInfo.Vendor.INTEL,
                        "Intel(R) Xeon(R) Processor",
                        6,
                        167,
                        List.of("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile")),
                intel);
        assertEquals(
                "Intel(R) Xeon(R) Processor (family 6 model 167; avx2 fma avx512f avx512_bf16 avx512_fp16 amx_tile)",
                intel.describe());
        CpuInfo amd = CpuInfo.parse(List.of(
                "vendor_id\t: AuthenticAMD",
                "cpu family\t: 25",
                "model\t\t: 17",
                "model name\t: AMD EPYC 9R14 96-Core Processor",
                "flags\t\t: fpu sse2 fma avx2 avx512f avx512_bf16 avx512_vnni"));
        assertEquals(
                new CpuInfo(
                        CpuInfo.Vendor.AMD,
                        "AMD EPYC 9R14 96-Core Processor",
                        25,
                        17,
                        List.of("avx2", "fma", "avx512f", "avx512_bf16")),
                amd);
        assertEquals(UNKNOWN, CpuInfo.parse(List.of("processor\t: 0")));
        assertEquals(UNKNOWN, CpuInfo.parse(List.of("cpu family\t: n/a", "flags\t\t:")));
        assertEquals("unknown (family -1 model -1; no vector extensions known)", UNKNOWN.describe());
    }

    @Test
    void anUnreadableFileIsAnUnknownCpu() {
        assertEquals(UNKNOWN, CpuInfo.read(Path.of("/nonexistent/attnspark/cpuinfo")));
    }

    /** sysfs's cache entries as Linux lays them out (cpu0/cache/index*: level, type, size), cut from this Xeon's. */
    @Test
    void readsTheLevelTwoCacheFromSysfs(@TempDir Path dir) throws IOException {
        cache(dir, "index0", "1", "Data", "48K");
        cache(dir, "index1", "1", "Instruction", "64K");
        cache(dir, "index2", "2", "Unified", "2048K");
        cache(dir, "index3", "3", "Unified", "491520K");
        assertEquals(2048L * 1024, CpuInfo.l2Bytes(dir, -1));

        Path megabytes = Files.createDirectory(dir.resolve("m"));
        cache(megabytes, "index0", "1", "Data", "32K");
        cache(megabytes, "index2", "2", "Data", "1M");
        assertEquals(1L << 20, CpuInfo.l2Bytes(megabytes, -1));
    }

    @Test
    void noReadableLevelTwoCacheGivesTheDefault(@TempDir Path dir) throws IOException {
        assertEquals(777, CpuInfo.l2Bytes(dir.resolve("absent"), 777));
        cache(dir, "index0", "1", "Data", "48K");
        cache(dir, "index1", "2", "Instruction", "1024K");
        assertEquals(777, CpuInfo.l2Bytes(dir, 777), "an instruction cache is not the one");
        cache(dir, "index2", "2", "Unified", "lots");
        assertEquals(777, CpuInfo.l2Bytes(dir, 777), "an unreadable size");
        assertTrue(CpuInfo.l2CacheBytes() > 0);
    }

    private static void cache(Path dir, String index, String level, String type, String size) throws IOException {
        Path d = Files.createDirectories(dir.resolve(index));
        Files.writeString(d.resolve("level"), level + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("size"), size + "\n");
    }
}
