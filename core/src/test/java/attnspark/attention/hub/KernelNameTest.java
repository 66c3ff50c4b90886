package attnspark.attention.hub;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** HF's is_kernel grammar (integrations/hub_kernels.py: org/repo[@rev][:func], no URLs; HF #45399, PR #39474). */
class KernelNameTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            nullValues = "-",
            value = {
                "a/b;                                     false; a; b;         -;  -",
                "a/b@r;                                   false; a; b;         r;  -",
                "a/b:f;                                   false; a; b;         -;  f",
                "a/b@r:f;                                 false; a; b;         r;  f",
                "kernels-community/flash-attn2;           false; kernels-community; flash-attn2; -; -",
                "kernels-community/vllm-flash-attn3@v0.1:flash_attn_func; false; kernels-community; vllm-flash-attn3; v0.1; flash_attn_func",
                "paged|a/b;                               true;  a; b;         -;  -",
                "paged|a/b@r:f;                           true;  a; b;         r;  f",
            })
    void valid(String name, boolean paged, String org, String repo, String rev, String fn) {
        assertTrue(KernelName.isKernel(name), name);
        KernelName k = KernelName.parse(name);
        assertEquals(new KernelName(name, paged, org, repo, rev, fn), k);
        assertEquals(org + "/" + repo, k.repo());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a",
                "a/b/c",
                "https://huggingface.co/kernels-community/flash-attn2",
                "hf.co/a/b",
                "/b",
                "a/",
                "a/b@",
                "a/b:",
                "a/b@:f",
                "@r/b",
                "a/b@r@s",
                "a b/c",
                "sdpa",
                "paged|sdpa",
                "paged|",
                "",
                "paged|paged|a/b",
                "a/b:f:g"
            })
    void invalid(String name) {
        assertFalse(KernelName.isKernel(name), name);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelName.parse(name));
        assertTrue(e.getMessage().contains("org/repo@revision:function"), e.getMessage());
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    @Test
    void nullIsNotAKernel() {
        assertFalse(KernelName.isKernel(null));
        assertThrows(IllegalArgumentException.class, () -> KernelName.parse(null));
    }
}
