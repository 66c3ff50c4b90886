#!/usr/bin/env python3
"""Independent goldens for the config variants attnspark loads.

For each variant this writes a small random-weight checkpoint (config.json + model.safetensors)
and the outputs of a plain float64 numpy forward written here from the Hugging Face modeling
files (modeling_llama / modeling_mistral / modeling_qwen2 / modeling_bert / modeling_roberta and
masking_utils), without importing or reading anything of attnspark:
  decoders: log_softmax of the logits at every position of every input sequence;
  encoders: the last hidden state of every token and its mean over each sequence.

Seeded: re-running reproduces the same bytes. Only numpy (and the standard library) is used.
Usage (from the repository root): python3 reference/make_variant_goldens.py
"""
import json
import math
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "variants")

VOCAB, HIDDEN, INTER, LAYERS, HEADS, KV_HEADS = 64, 32, 48, 2, 4, 2
HEAD_DIM = HIDDEN // HEADS
DECODER_INPUTS = [[5, 17, 42, 8, 63, 2, 30, 11, 11, 57, 4, 23, 9, 48, 36, 0, 19, 61, 27, 3, 50, 14, 33],
                  [7, 44, 21, 2, 58, 13, 39, 6, 25, 60, 31, 12, 47, 3, 16, 52, 28]]
# RoBERTa numbers positions from padding_idx + 1 and skips pad tokens (id 1): the inputs hold none
ENCODER_INPUTS = [[0, 12, 40, 7, 33, 21, 9, 58, 16, 3, 44, 27, 2],
                  [0, 50, 6, 29, 14, 37, 2]]


# ---- safetensors, by hand: u64 little-endian header length, JSON header, raw little-endian bytes ----

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def weights(rng, shapes):
    """N(0, 0.2) matrices and vectors, norms around 1; rounded to float32 (what the checkpoint stores)."""
    out = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight") or name.endswith("LayerNorm.weight"):
            w = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("LayerNorm.bias"):
            w = 0.05 * rng.standard_normal(shape)
        else:
            w = 0.2 * rng.standard_normal(shape)
        out[name] = w.astype(np.float32)
    return out


# ---- the llama family (HF modeling_llama, mistral and qwen2 differ only in config) ----

def inv_freq(cfg):
    """HF _compute_default/linear/llama3_parameters (modeling_rope_utils)."""
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / base ** (np.arange(0, HEAD_DIM, 2, dtype=np.float64) / HEAD_DIM)
    rs = cfg.get("rope_scaling")
    if rs is None:
        return inv
    if rs["rope_type"] == "linear":
        return inv / rs["factor"]
    if rs["rope_type"] == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
        return np.where(medium, smoothed, scaled)
    raise ValueError(rs)


def rope(x, positions, inv):
    """x (S, H, Dh): rotate_half RoPE, cos/sin of position * inv_freq repeated over both halves."""
    ang = np.outer(positions, inv)                               # (S, Dh/2)
    cos = np.concatenate([np.cos(ang), np.cos(ang)], axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(ang), np.sin(ang)], axis=-1)[:, None, :]
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_kinds(cfg):
    """HF layer_types: mistral slides every layer; qwen2 only with use_sliding_window and from max_window_layers on."""
    kinds = []
    for layer in range(cfg["num_hidden_layers"]):
        if cfg.get("attention_chunk_size"):
            kinds.append("chunked")
        elif cfg["model_type"] == "qwen2":
            sliding = cfg.get("use_sliding_window", False) and layer >= cfg.get("max_window_layers", 28)
            kinds.append("sliding" if sliding else "full")
        elif cfg.get("sliding_window"):
            kinds.append("sliding")
        else:
            kinds.append("full")
    return kinds


def visible(kind, cfg, S):
    """masking_utils: causal kv <= q; sliding q - w < kv <= q; chunked same chunk and causal."""
    q = np.arange(S)[:, None]
    kv = np.arange(S)[None, :]
    m = kv <= q
    if kind == "sliding":
        m &= kv > q - cfg["sliding_window"]
    if kind == "chunked":
        c = cfg["attention_chunk_size"]
        m &= (kv // c) == (q // c)
    return m


def softmax(s, axis=-1):
    s = s - np.max(s, axis=axis, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=axis, keepdims=True)


def llama_log_probs(cfg, w, ids):
    S = len(ids)
    eps = cfg["rms_norm_eps"]
    inv = inv_freq(cfg)
    f = {k: v.astype(np.float64) for k, v in w.items()}
    x = f["model.embed_tokens.weight"][ids]                      # (S, D)
    pos = np.arange(S, dtype=np.float64)
    groups = HEADS // KV_HEADS
    for layer, kind in enumerate(layer_kinds(cfg)):
        p = "model.layers.%d." % layer
        h = rms_norm(x, f[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ f[p + "self_attn." + name + ".weight"].T
            return y + f[p + "self_attn." + name + ".bias"] if p + "self_attn." + name + ".bias" in f else y

        q = rope(proj("q_proj").reshape(S, HEADS, HEAD_DIM), pos, inv)
        k = rope(proj("k_proj").reshape(S, KV_HEADS, HEAD_DIM), pos, inv)
        v = proj("v_proj").reshape(S, KV_HEADS, HEAD_DIM)
        allowed = visible(kind, cfg, S)
        out = np.zeros((S, HEADS, HEAD_DIM))
        for head in range(HEADS):
            kvh = head // groups                                 # repeat_kv
            scores = q[:, head, :] @ k[:, kvh, :].T / math.sqrt(HEAD_DIM)
            scores = np.where(allowed, scores, -np.inf)
            out[:, head, :] = softmax(scores) @ v[:, kvh, :]
        x = x + out.reshape(S, HEADS * HEAD_DIM) @ f[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, f[p + "post_attention_layernorm.weight"], eps)
        gate = h @ f[p + "mlp.gate_proj.weight"].T
        up = h @ f[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ f[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, f["model.norm.weight"], eps)
    head = f["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else f["lm_head.weight"]
    logits = x @ head.T
    return logits - (np.max(logits, -1, keepdims=True)
                     + np.log(np.sum(np.exp(logits - np.max(logits, -1, keepdims=True)), -1, keepdims=True)))


def llama_shapes(cfg, bias):
    s = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,)}
    if not cfg["tie_word_embeddings"]:
        s["lm_head.weight"] = (VOCAB, HIDDEN)
    for layer in range(LAYERS):
        p = "model.layers.%d." % layer
        s[p + "input_layernorm.weight"] = (HIDDEN,)
        s[p + "post_attention_layernorm.weight"] = (HIDDEN,)
        s[p + "self_attn.q_proj.weight"] = (HEADS * HEAD_DIM, HIDDEN)
        s[p + "self_attn.k_proj.weight"] = (KV_HEADS * HEAD_DIM, HIDDEN)
        s[p + "self_attn.v_proj.weight"] = (KV_HEADS * HEAD_DIM, HIDDEN)
        if bias:                                                 # qwen2: attention_bias on q/k/v only
            s[p + "self_attn.q_proj.bias"] = (HEADS * HEAD_DIM,)
            s[p + "self_attn.k_proj.bias"] = (KV_HEADS * HEAD_DIM,)
            s[p + "self_attn.v_proj.bias"] = (KV_HEADS * HEAD_DIM,)
        s[p + "self_attn.o_proj.weight"] = (HIDDEN, HEADS * HEAD_DIM)
        s[p + "mlp.gate_proj.weight"] = (INTER, HIDDEN)
        s[p + "mlp.up_proj.weight"] = (INTER, HIDDEN)
        s[p + "mlp.down_proj.weight"] = (HIDDEN, INTER)
    return s


def decoder_config(model_type, **extra):
    cfg = {"model_type": model_type, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
           "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
           "head_dim": HEAD_DIM, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
           "max_position_embeddings": 64, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2}
    cfg.update(extra)
    return cfg


DECODERS = {
    # three bands of llama3 scaling: wavelengths 6.3 (kept), 62.8 (blended), 628 and 6283 (divided by factor)
    "llama-rope-llama3": decoder_config("llama", rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}),
    "llama-rope-linear": decoder_config("llama", rope_scaling={"rope_type": "linear", "factor": 4.0},
                                        tie_word_embeddings=True),
    "mistral-sliding-window": decoder_config("mistral", sliding_window=5),
    "qwen2-window-layers": decoder_config("qwen2", sliding_window=5, use_sliding_window=True, max_window_layers=1),
    "qwen2-no-window": decoder_config("qwen2", sliding_window=5, use_sliding_window=False, max_window_layers=1),
    "llama-chunked-attention": decoder_config("llama", attention_chunk_size=6),
}


# ---- BERT / RoBERTa (HF modeling_bert, modeling_roberta) ----

def layer_norm(x, w, b, eps):
    mu = np.mean(x, -1, keepdims=True)
    var = np.mean((x - mu) ** 2, -1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


ERF = np.vectorize(math.erf)


def bert_hidden(cfg, w, ids):
    S, eps = len(ids), cfg["layer_norm_eps"]
    f = {k: v.astype(np.float64) for k, v in w.items()}
    if cfg["model_type"] == "roberta":
        # create_position_ids_from_input_ids: cumsum over non-pad tokens, plus padding_idx
        pad = cfg["pad_token_id"]
        mask = np.array([t != pad for t in ids], dtype=np.int64)
        positions = np.cumsum(mask) * mask + pad
    else:
        positions = np.arange(S)
    x = (f["embeddings.word_embeddings.weight"][ids] + f["embeddings.position_embeddings.weight"][positions]
         + f["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, f["embeddings.LayerNorm.weight"], f["embeddings.LayerNorm.bias"], eps)
    H, Dh = cfg["num_attention_heads"], HIDDEN // cfg["num_attention_heads"]
    for layer in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % layer

        def lin(name, inp):
            return inp @ f[p + name + ".weight"].T + f[p + name + ".bias"]

        q = lin("attention.self.query", x).reshape(S, H, Dh)
        k = lin("attention.self.key", x).reshape(S, H, Dh)
        v = lin("attention.self.value", x).reshape(S, H, Dh)
        ctx = np.zeros((S, H, Dh))
        for h in range(H):
            ctx[:, h, :] = softmax(q[:, h, :] @ k[:, h, :].T / math.sqrt(Dh)) @ v[:, h, :]
        a = lin("attention.output.dense", ctx.reshape(S, HIDDEN))
        x = layer_norm(a + x, f[p + "attention.output.LayerNorm.weight"], f[p + "attention.output.LayerNorm.bias"], eps)
        i = lin("intermediate.dense", x)
        i = 0.5 * i * (1 + ERF(i / math.sqrt(2)))                 # exact gelu
        x = layer_norm(lin("output.dense", i) + x, f[p + "output.LayerNorm.weight"], f[p + "output.LayerNorm.bias"], eps)
    return x


def bert_shapes(cfg):
    s = {"embeddings.word_embeddings.weight": (VOCAB, HIDDEN),
         "embeddings.position_embeddings.weight": (cfg["max_position_embeddings"], HIDDEN),
         "embeddings.token_type_embeddings.weight": (cfg["type_vocab_size"], HIDDEN),
         "embeddings.LayerNorm.weight": (HIDDEN,), "embeddings.LayerNorm.bias": (HIDDEN,)}
    for layer in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % layer
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            s[p + name + ".weight"] = (HIDDEN, HIDDEN)
            s[p + name + ".bias"] = (HIDDEN,)
        s[p + "intermediate.dense.weight"] = (INTER, HIDDEN)
        s[p + "intermediate.dense.bias"] = (INTER,)
        s[p + "output.dense.weight"] = (HIDDEN, INTER)
        s[p + "output.dense.bias"] = (HIDDEN,)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + ln + ".weight"] = (HIDDEN,)
            s[p + ln + ".bias"] = (HIDDEN,)
    return s


def encoder_config(model_type, **extra):
    cfg = {"model_type": model_type, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
           "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "max_position_embeddings": 24,
           "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0}
    cfg.update(extra)
    return cfg


ENCODERS = {
    "bert": encoder_config("bert"),
    # positions start at padding_idx + 1 = 2, so the table has 2 more rows than usable positions
    "roberta-position-offset": encoder_config("roberta", pad_token_id=1, max_position_embeddings=26, type_vocab_size=1),
}


def rounded(a):
    return [[float("%.9g" % v) for v in row] for row in np.asarray(a)]


def main():
    for seed, (name, cfg) in enumerate(list(DECODERS.items()) + list(ENCODERS.items())):
        rng = np.random.default_rng(1000 + seed)
        decoder = name in DECODERS
        shapes = llama_shapes(cfg, bias=cfg["model_type"] == "qwen2") if decoder else bert_shapes(cfg)
        w = weights(rng, shapes)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as fh:
            json.dump(cfg, fh, indent=2, sort_keys=True)
            fh.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        if decoder:
            golden = {"inputs": DECODER_INPUTS,
                      "log_probs": [rounded(llama_log_probs(cfg, w, ids)) for ids in DECODER_INPUTS]}
        else:
            hidden = [bert_hidden(cfg, w, ids) for ids in ENCODER_INPUTS]
            golden = {"inputs": ENCODER_INPUTS, "last_hidden_state": [rounded(h) for h in hidden],
                      "mean_pooled": [rounded(h.mean(axis=0, keepdims=True))[0] for h in hidden]}
        with open(os.path.join(d, "golden.json"), "w") as fh:
            json.dump(golden, fh, separators=(",", ":"))
            fh.write("\n")
        print("%-26s %6d bytes of weights" % (name, os.path.getsize(os.path.join(d, "model.safetensors"))))


if __name__ == "__main__":
    main()
