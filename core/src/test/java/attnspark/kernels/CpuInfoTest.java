package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuInfoTest {
    @Test
    void readsTheFirstProcessorsVendorAndModelName() {
        // lines as Linux prints them (tabs before the colon), from an Ice Lake-SP and a Zen 4 machine
        CpuInfo intel = CpuInfo.parse(List.of(
                "processor\t: 0",
                "vendor_id\t: GenuineIntel",
                "cpu family\t: 6",
                "model\t\t: 106",
                "model name\t: Intel(R) Xeon(R) Processor @ 2.80GHz",
                "",
                "processor\t: 1",
                "vendor_id\t: AuthenticAMD"));
        assertEquals(new CpuInfo(CpuInfo.Vendor.INTEL, "Intel(R) Xeon(R) Processor @ 2.80GHz"), intel);
        CpuInfo amd =
                CpuInfo.parse(List.of("vendor_id\t: AuthenticAMD", "model name\t: AMD EPYC 9R14 96-Core Processor"));
        assertEquals(new CpuInfo(CpuInfo.Vendor.AMD, "AMD EPYC 9R14 96-Core Processor"), amd);
        assertEquals(new CpuInfo(CpuInfo.Vendor.OTHER, "unknown"), CpuInfo.parse(List.of("processor\t: 0")));
    }

    @Test
    void anUnreadableFileIsAnUnknownCpu() {
        assertEquals(
                new CpuInfo(CpuInfo.Vendor.OTHER, "unknown"), CpuInfo.read(Path.of("/nonexistent/attnspark/cpuinfo")));
    }
}
