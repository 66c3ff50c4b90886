package attnspark.models;

import attnspark.attention.AttentionFunction;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.attention.hub.HubKernels;
import attnspark.attention.hub.KernelName;
import attnspark.attention.hub.KernelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every model family shares about attention: its own registry instances (local
 * overrides stay in this model, as HF models hold their own interface) and the backend
 * name in use, switchable at run time without reloading weights. A composite model
 * (text + vision, ...) lists its parts in {@link #subModels()} and a per-sub-config
 * {@link AttnImplementation} reaches each of them.
 */
public abstract class AttentionModel implements TransformerModel {
    public final AttentionInterface attentionFunctions = new AttentionInterface();
    public final AttentionMaskInterface maskFunctions = new AttentionMaskInterface();
    private volatile String attnImplementation;
    /** Where kernel names (org/repo) resolve from; set before the backend so the constructor can load one. */
    private volatile KernelSource kernelSource;

    /**
     * Sets this model's own backend only: subclass fields (and so its sub-models) do not exist
     * yet. A composite calls {@link #setAttnImplementation(AttnImplementation)} once they do.
     * Kernel names resolve with the kernel source of {@link HubKernels#withSource} (HF's
     * allow_all_hub_kernels around from_pretrained).
     */
    protected AttentionModel(String attnImplementation) {
        this.kernelSource = HubKernels.currentSource();
        this.attnImplementation = resolve(attnImplementation, "");
    }

    /** Sub-models by sub-config name ({@code text_config}, ...); empty for a single model. */
    public Map<String, AttentionModel> subModels() {
        return Map.of();
    }

    public KernelSource kernelSource() {
        return kernelSource;
    }

    /** Kernels dir and trust used by later {@link #setAttnImplementation} calls on this model and its sub-models. */
    public void setKernelSource(KernelSource source) {
        this.kernelSource = source == null ? KernelSource.DEFAULT : source;
        for (AttentionModel sub : subModels().values()) sub.setKernelSource(source);
    }

    /** One name for this model and every sub-model (HF: a str applies to all sub-configs). Unknown names fail listing the valid ones. */
    @Override
    public void setAttnImplementation(String name) {
        setAttnImplementation(AttnImplementation.of(name));
    }

    /** {@code {"": "eager", "vision_config": "sdpa"}}: keys left out keep their backend. */
    public void setAttnImplementation(Map<String, String> perConfig) {
        setAttnImplementation(AttnImplementation.of(perConfig));
    }

    /**
     * Validates every key and every name first, then applies them all, so a bad entry leaves
     * the model (and its sub-models) as it was. The top level resolves hub-kernel names
     * (loading them if needed); sub-models accept names that are registered by then, as in HF
     * where only the top-level request goes through the kernel path.
     */
    public void setAttnImplementation(AttnImplementation impl) {
        List<Runnable> apply = new ArrayList<>();
        plan(impl, "", true, apply);
        apply.forEach(Runnable::run);
    }

    private void plan(AttnImplementation impl, String path, boolean top, List<Runnable> apply) {
        Map<String, AttentionModel> subs = subModels();
        impl.checkKeys(subs.keySet());
        String own = impl.forKey("", attnImplementation);
        if (!own.equals(attnImplementation)) {
            String resolved = top ? resolve(own, path) : checkRegistered(own, path);
            apply.add(() -> this.attnImplementation = resolved);
        }
        for (Map.Entry<String, AttentionModel> e : subs.entrySet()) {
            if (!impl.sets(e.getKey())) continue; // missing keys keep their current backend, nested ones too
            String name = impl.forKey(e.getKey(), e.getValue().attnImplementation());
            // kernels named at the top level are registered by the time sub-models are checked
            if (top
                    && !name.equals(own)
                    && KernelName.isKernel(name)
                    && !e.getValue().attentionFunctions.contains(name)) {
                HubKernels.ensureRegistered(name, kernelSource);
            }
            e.getValue()
                    .plan(
                            AttnImplementation.of(name),
                            path.isEmpty() ? e.getKey() : path + "." + e.getKey(),
                            false,
                            apply);
        }
    }

    /** Kernel-aware: {@code org/repo[@rev][:fn]} and {@code paged|org/repo} load through {@link HubKernels}. */
    private String resolve(String name, String path) {
        if (KernelName.isKernel(name)
                && !(attentionFunctions.contains(name) && !attentionFunctions.containsGlobal(name))) {
            HubKernels.ensureRegistered(name, kernelSource);
        }
        return checkRegistered(name, path);
    }

    private String checkRegistered(String name, String path) {
        AttentionFunction fn = path.isEmpty()
                ? attentionFunctions.get(name)
                : attentionFunctions.lookup(name); // get: unknown names fail listing the valid ones
        if (fn instanceof AttentionInterface.Unavailable u) throw u.error();
        if (fn == null) {
            throw new IllegalArgumentException(
                    "Specified attn_implementation=\"" + name + "\" is not supported for " + path
                            + ". The only possible arguments are \"eager\" (manual attention implementation) or one of the following: "
                            + attentionFunctions.validKeys());
        }
        return name;
    }

    @Override
    public String attnImplementation() {
        return attnImplementation;
    }

    @Override
    public AttentionInterface attentionFunctions() {
        return attentionFunctions;
    }
}
