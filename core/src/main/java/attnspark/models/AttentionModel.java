package attnspark.models;

import attnspark.attention.AttentionInterface;
import attnspark.attention.AttentionMaskInterface;

/**
 * What every model family shares about attention: its own registry instances (local
 * overrides stay in this model, as HF models hold their own interface) and the backend
 * name in use, switchable at run time without reloading weights.
 */
public abstract class AttentionModel implements TransformerModel {
    public final AttentionInterface attentionFunctions = new AttentionInterface();
    public final AttentionMaskInterface maskFunctions = new AttentionMaskInterface();
    private volatile String attnImplementation;

    protected AttentionModel(String attnImplementation) {
        setAttnImplementation(attnImplementation);
    }

    /** Unknown names fail listing the valid ones. */
    @Override
    public void setAttnImplementation(String name) {
        attentionFunctions.get(name);
        this.attnImplementation = name;
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
