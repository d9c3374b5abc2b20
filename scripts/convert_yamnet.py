"""Convert YAMNet (`shared/models/yamnet/yamnet.tflite`) to the ONNX file the runtime ships.

    make yamnet-onnx     # a throwaway venv with tensorflow-cpu and tf2onnx, then this script

tf2onnx reads the TensorFlow Lite graph (its int8 weights stay int8, with DequantizeLinear in
front of each convolution), so the file is as small as the original. The input and outputs get
names of their own, the 1024-d embedding (the mean of the last layer's frames, tensor 121 in
LiteRT) becomes a third output, `embedding`, and the metadata records where the model came
from and its license.
`tests/test_second_opinion.py` checks that ONNX Runtime agrees with LiteRT on real audio.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import onnx
import tf2onnx

OPSET = 18
RENAMES = {"input_1": "waveform", "Identity": "scores", "Identity_1": "log_mel"}
EMBEDDING_TENSOR = "yamnet_frames/global_average_pooling2d/Mean"
EMBEDDING_OUTPUT = "embedding"


def convert(tflite_file: Path, output_file: Path) -> None:
    """Convert, rename the graph's input and outputs, and write the provenance metadata."""
    proto, _ = tf2onnx.convert.from_tflite(str(tflite_file), opset=OPSET)
    graph = proto.graph
    for value in [*graph.input, *graph.output]:
        value.name = RENAMES.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [RENAMES.get(name, name) for name in node.input]
        node.output[:] = [RENAMES.get(name, name) for name in node.output]
    add_embedding_output(proto)
    onnx.helper.set_model_props(
        proto,
        {
            "source": "YAMNet, TensorFlow Hub lite-model/yamnet/classification/tflite/1",
            "source_sha256": hashlib.sha256(tflite_file.read_bytes()).hexdigest(),
            "license": "Apache-2.0 (tensorflow/models, research/audioset/yamnet)",
            "converted_by": f"tf2onnx {tf2onnx.__version__}, opset {OPSET}",
        },
    )
    onnx.checker.check_model(proto)
    onnx.save_model(proto, str(output_file))


def add_embedding_output(proto: onnx.ModelProto) -> None:
    """Expose the [1, 1024] embedding the scores are computed from as the output `embedding`."""
    graph = proto.graph
    if any(o.name == EMBEDDING_OUTPUT for o in graph.output):
        return
    graph.node.append(onnx.helper.make_node("Identity", [EMBEDDING_TENSOR], [EMBEDDING_OUTPUT]))
    graph.output.append(
        onnx.helper.make_tensor_value_info(EMBEDDING_OUTPUT, onnx.TensorProto.FLOAT, [1, 1024])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--tflite", type=Path, default=Path("../shared/models/yamnet/yamnet.tflite")
    )
    parser.add_argument("--out", type=Path, default=Path("src/miserymeter/models/yamnet.onnx"))
    args = parser.parse_args()
    if not args.tflite.is_file():
        print(f"error: {args.tflite}: no such file; pass --tflite PATH", file=sys.stderr)
        return 1
    convert(args.tflite, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
