#!/usr/bin/env python3
"""Generates the TFLite importer's test fixtures (tests/fixtures/tflite/). Python 3 stdlib only.

1. Tiny hand-made graphs (tiny_*.tflite): every supported op and fused activation, odd sizes
   (asymmetric TF SAME padding), fp16 weights behind DEQUANTIZE and plain FLOAT32 weights, all
   three OperatorCode styles (deprecated byte only / both / builtin_code only), RESHAPE target
   from a shape operand, from ReshapeOptions and from the output tensor. Their golden outputs,
   *every intermediate tensor included*, are written in full to tiny_*.json.
2. Graphs that must be refused (bad_*.tflite), each with the message fragment the C++ test
   expects: MUL, GELU (code > 127, only in builtin_code), a custom op, depth multiplier 2, an
   INT8 tensor, an operator reading a tensor nothing wrote.
3. Golden outputs of the three MediaPipe models (golden_<model>.json) for the documented input
   pattern below, from an independent pure-Python TFLite interpreter (tflite_ref.py, double
   precision, kept outside this repository): sum, sum of |x|, min,
   max and every `stride`-th value of each output, and the same summary of the first operator of
   every type (intermediates). Needs $FACET_ASSETS (default <repo>/assets) and the folder of
   tflite_ref.py (--ref-tools DIR or $FACET_REF_TOOLS; it also computes the tiny graphs' outputs). Slow (about a minute per model).

Input pattern (tests/engine/test_tflite.cpp computes the same): for an NHWC input of shape
[N, H, W, C], sample n, pixel (h, w), channel c
    v = 0.75*sin(0.21*h + 0.13*w + 2.1*c + 0.5*n) + 0.25*cos(0.07*h*(c+1) - 0.19*w + 0.3*n)
evaluated in double precision and rounded to float32 (a smooth, channel-dependent, asymmetric
pattern in [-1, 1], the MediaPipe input range).

The reference computes in double precision from the same fp16-rounded weights; the C++ engine
computes in float32, so the tests compare within a tolerance (see test_tflite.cpp).

Usage: gen_tflite_golden.py [--out DIR] [--tiny-only]
"""
import argparse
import hashlib
import json
import math
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# ---- a minimal FlatBuffer writer ---------------------------------------------------------------
# Objects are laid out front to back: a table's vtable, then the table, then (recursively) the
# objects it refers to, so every reference offset is positive as the format requires.


class Table:
    def __init__(self, fields):
        # fields: list of (field_id, kind, value); kind is a struct format char ('b', 'B', 'i', 'I',
        # 'q', 'Q', 'f'), 'table', 'str', 'ubytes' (a [ubyte] vector, 16-aligned), 'vec:<fmt>' (a
        # scalar vector) or 'vec:table'. A None value leaves the field out (the reader's default).
        self.fields = [f for f in fields if f[2] is not None]


class Writer:
    def __init__(self):
        self.buf = bytearray()

    def align(self, n):
        while len(self.buf) % n:
            self.buf.append(0)

    def table(self, t):
        ids = [f[0] for f in t.fields]
        nslots = max(ids) + 1 if ids else 0
        # inline layout: soffset (4 bytes), then fields sorted by size (largest first) for alignment
        def size(kind):
            return struct.calcsize("<" + kind) if len(kind) == 1 else 4
        order = sorted(t.fields, key=lambda f: -size(f[1]))
        offs, pos = {}, 4
        for f in order:
            s = size(f[1])
            pos = (pos + s - 1) // s * s
            offs[f[0]] = pos
            pos += s
        tsize = (pos + 3) // 4 * 4
        self.align(2)
        vt = len(self.buf)
        self.buf += struct.pack("<HH", 4 + 2 * nslots, tsize)
        for i in range(nslots):
            self.buf += struct.pack("<H", offs.get(i, 0))
        self.align(8)
        tpos = len(self.buf)
        self.buf += bytes(tsize)
        struct.pack_into("<i", self.buf, tpos, tpos - vt)
        refs = []
        for fid, kind, val in t.fields:
            p = tpos + offs[fid]
            if len(kind) == 1:
                struct.pack_into("<" + kind, self.buf, p, val)
            else:
                refs.append((p, kind, val))
        for p, kind, val in refs:
            target = self.obj(kind, val)
            struct.pack_into("<I", self.buf, p, target - p)
        return tpos

    def vector_header(self, n, elem_align):
        # the length sits right before the elements, which must be elem_align-aligned
        self.align(4)
        while (len(self.buf) + 4) % elem_align:
            self.buf.append(0)
        pos = len(self.buf)
        self.buf += struct.pack("<I", n)
        return pos

    def obj(self, kind, val):
        if kind == "table":
            return self.table(val)
        if kind == "str":
            b = val.encode()
            pos = self.vector_header(len(b), 4)
            self.buf += b + b"\0"
            return pos
        if kind == "ubytes":
            pos = self.vector_header(len(val), 16)
            self.buf += val
            return pos
        if kind.startswith("vec:"):
            ek = kind[4:]
            if ek == "table":
                pos = self.vector_header(len(val), 4)
                slots = len(self.buf)
                self.buf += bytes(4 * len(val))
                for i, t in enumerate(val):
                    target = self.table(t)
                    struct.pack_into("<I", self.buf, slots + 4 * i, target - (slots + 4 * i))
                return pos
            es = struct.calcsize("<" + ek)
            pos = self.vector_header(len(val), max(4, es))
            self.buf += struct.pack("<%d%s" % (len(val), ek), *val)
            return pos
        raise ValueError(kind)

    def finish(self, root, ident=b"TFL3"):
        self.buf += struct.pack("<I", 0) + ident
        rpos = self.table(root)
        struct.pack_into("<I", self.buf, 0, rpos)
        return bytes(self.buf)


# ---- TFLite graph builder ------------------------------------------------------------------------
OPS = {"ADD": 0, "CONCATENATION": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "DEQUANTIZE": 6, "LOGISTIC": 14,
       "MAX_POOL_2D": 17, "MUL": 18, "RELU": 19, "RELU_N1_TO_1": 20, "RELU6": 21, "RESHAPE": 22,
       "RESIZE_BILINEAR": 23, "TANH": 28, "CUSTOM": 32, "PAD": 34, "PRELU": 54, "GELU": 150}
TYPES = {"FLOAT32": 0, "FLOAT16": 1, "INT32": 2, "INT8": 9}
ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}
PAD = {"SAME": 0, "VALID": 1}


def prod(s):
    r = 1
    for x in s:
        r *= x
    return r


class Graph:
    def __init__(self, name, code_style="both", seed=1):
        self.name, self.code_style = name, code_style
        self.rng = random.Random(seed)
        self.tensors, self.buffers, self.ops, self.codes = [], [b""], [], []
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, ttype="FLOAT32", data=None):
        buf = 0
        if data is not None:
            self.buffers.append(data)
            buf = len(self.buffers) - 1
        self.tensors.append((name, list(shape), TYPES[ttype], buf))
        return len(self.tensors) - 1

    def input(self, name, shape):
        t = self.tensor(name, shape)
        self.inputs.append(t)
        return t

    def rand(self, n, scale):
        return [self.rng.uniform(-scale, scale) for _ in range(n)]

    def const_f16(self, name, shape, scale=0.5, values=None):
        v = values if values is not None else self.rand(prod(shape), scale)
        q = self.tensor(name + "_fp16", shape, "FLOAT16", struct.pack("<%de" % len(v), *v))
        return self.op("DEQUANTIZE", [q], name, shape)

    def const_f32(self, name, shape, scale=0.5, values=None):
        v = values if values is not None else self.rand(prod(shape), scale)
        return self.tensor(name, shape, "FLOAT32", struct.pack("<%df" % len(v), *v))

    def const_i32(self, name, values, shape=None):
        return self.tensor(name, shape or [len(values)], "INT32", struct.pack("<%di" % len(values), *values))

    def code(self, op, custom=None):
        key = (op, custom)
        if key not in self.codes:
            self.codes.append(key)
        return self.codes.index(key)

    def op(self, op, inputs, out_name, out_shape, opt_type=0, opt=None, custom=None, out_type="FLOAT32"):
        out = self.tensor(out_name, out_shape, out_type)
        self.ops.append((self.code(op, custom), inputs, [out], opt_type, opt))
        return out

    def build(self):
        codes = []
        for op, custom in self.codes:
            c = OPS[op]
            if self.code_style == "deprecated":  # old writers: the byte field only
                f = [(0, "b", c)]
            elif self.code_style == "builtin":    # builtin_code only (deprecated left at default 0)
                f = [(3, "i", c)]
            else:                                 # current writers: both (127 = see builtin_code)
                f = [(0, "b", min(c, 127)), (3, "i", c)]
            if custom:
                f.append((1, "str", custom))
            codes.append(Table(f + [(2, "i", 1)]))
        tensors = [Table([(0, "vec:i", s), (1, "b", ty if ty else None), (2, "I", b if b else None), (3, "str", n)])
                   for n, s, ty, b in self.tensors]
        ops = [Table([(0, "I", oc if oc else None), (1, "vec:i", ins), (2, "vec:i", outs),
                      (3, "B", ot if opt else None), (4, "table", opt)])
               for oc, ins, outs, ot, opt in self.ops]
        sg = Table([(0, "vec:table", tensors), (1, "vec:i", self.inputs), (2, "vec:i", self.outputs),
                    (3, "vec:table", ops), (4, "str", self.name)])
        bufs = [Table([(0, "ubytes", b if b else None)]) for b in self.buffers]
        model = Table([(0, "I", 3), (1, "vec:table", codes), (2, "vec:table", [sg]),
                       (3, "str", "facet test graph " + self.name), (4, "vec:table", bufs)])
        return Writer().finish(model)


def conv_opt(padding, sh, sw, act="NONE"):
    return Table([(0, "b", PAD[padding]), (1, "i", sw), (2, "i", sh), (3, "b", ACT[act])])


def dw_opt(padding, sh, sw, mult=1, act="NONE"):
    return Table([(0, "b", PAD[padding]), (1, "i", sw), (2, "i", sh), (3, "i", mult), (4, "b", ACT[act])])


def pool_opt(padding, k, s, act="NONE"):
    return Table([(0, "b", PAD[padding]), (1, "i", s), (2, "i", s), (3, "i", k), (4, "i", k), (5, "b", ACT[act])])


def tiny_conv():
    g = Graph("tiny_conv", code_style="deprecated", seed=11)
    x = g.input("x", [1, 7, 6, 3])
    w1, b1 = g.const_f16("w1", [4, 3, 3, 3]), g.const_f16("b1", [4], 0.2)
    c1 = g.op("CONV_2D", [x, w1, b1], "conv_same_s2_relu", [1, 4, 3, 4], 1, conv_opt("SAME", 2, 2, "RELU"))
    w2, b2 = g.const_f32("w2", [5, 2, 3, 3]), g.const_f32("b2", [5], 0.2)
    c2 = g.op("CONV_2D", [x, w2, b2], "conv_valid_s1x2_relu6", [1, 6, 2, 5], 1, conv_opt("VALID", 1, 2, "RELU6"))
    wd, bd = g.const_f32("wd", [1, 3, 3, 4], 0.8), g.const_f32("bd", [4], 0.2)
    d1 = g.op("DEPTHWISE_CONV_2D", [c1, wd, bd], "dw_same_s1_relun1", [1, 4, 3, 4], 2,
              dw_opt("SAME", 1, 1, 1, "RELU_N1_TO_1"))
    wd2 = g.const_f16("wd2", [1, 3, 3, 3], 0.8)
    d2 = g.op("DEPTHWISE_CONV_2D", [x, wd2, -1], "dw_same_s2_nobias", [1, 4, 3, 3], 2, dw_opt("SAME", 2, 2))
    w3 = g.const_f16("w3", [6, 1, 1, 4])
    c3 = g.op("CONV_2D", [d1, w3], "conv_1x1_tanh", [1, 4, 3, 6], 1, conv_opt("VALID", 1, 1, "TANH"))
    g.outputs = [c3, c2, d2]
    return g


def tiny_blocks():
    g = Graph("tiny_blocks", code_style="both", seed=22)
    x = g.input("x", [1, 9, 7, 4])
    m1 = g.op("MAX_POOL_2D", [x], "maxpool_same", [1, 5, 4, 4], 5, pool_opt("SAME", 2, 2))
    m2 = g.op("MAX_POOL_2D", [x], "maxpool_valid_relu", [1, 4, 3, 4], 5, pool_opt("VALID", 3, 2, "RELU"))
    pads = g.const_i32("paddings", [0, 0, 1, 0, 0, 2, 0, 2], [4, 2])
    p = g.op("PAD", [m1, pads], "pad", [1, 6, 6, 6])
    bias = g.const_f16("bias", [6], values=[-0.5, 0.25, 0.75, -1.0, 0.1, 0.0])
    a = g.op("ADD", [p, bias], "add_bcast", [1, 6, 6, 6], 11, Table([(0, "b", 0)]))
    alpha = g.const_f16("alpha", [1, 1, 6], values=[0.25, -0.5, 0.0, 1.5, 0.1, 0.9])
    pr = g.op("PRELU", [a, alpha], "prelu", [1, 6, 6, 6])
    size = g.const_i32("size", [11, 4])
    r = g.op("RESIZE_BILINEAR", [pr, size], "resize", [1, 11, 4, 6], 15,
             Table([(2, "B", 0), (3, "B", 1)]))
    lg = g.op("LOGISTIC", [r], "logistic", [1, 11, 4, 6])
    shift = g.const_f32("shift", [1, 1, 1, 4], values=[-0.3, 6.2, 0.1, 5.5])
    n = g.op("ADD", [m2, shift], "add_shift", [1, 4, 3, 4], 11, Table([]))
    rl = g.op("RELU", [n], "relu", [1, 4, 3, 4])
    r6 = g.op("RELU6", [n], "relu6", [1, 4, 3, 4])
    r1 = g.op("RELU_N1_TO_1", [n], "relu_n1_to_1", [1, 4, 3, 4])
    th = g.op("TANH", [n], "tanh", [1, 4, 3, 4])
    shp = g.const_i32("new_shape", [1, -1, 6])
    re1 = g.op("RESHAPE", [lg, shp], "reshape_operand", [1, 44, 6])
    re2 = g.op("RESHAPE", [rl], "reshape_options", [1, 12, 4], 17, Table([(0, "vec:i", [1, -1, 4])]))
    re3 = g.op("RESHAPE", [r6], "reshape_declared", [1, 12, 4])
    cat1 = g.op("CONCATENATION", [re2, re3], "concat_axis1", [1, 24, 4], 10, Table([(0, "i", 1)]))
    cat2 = g.op("CONCATENATION", [r1, th, n], "concat_last_relu", [1, 4, 3, 12], 10,
                Table([(0, "i", -1), (1, "b", ACT["RELU"])]))
    g.outputs = [re1, cat1, cat2]
    return g


def tiny_add_activations():
    # ADD of two activations with each fused activation, in builtin_code-only style
    g = Graph("tiny_add", code_style="builtin", seed=33)
    x = g.input("x", [1, 3, 5, 2])
    y = g.input("y", [1, 3, 5, 2])
    outs = []
    for act in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"):
        outs.append(g.op("ADD", [x, y], "add_" + act.lower(), [1, 3, 5, 2], 11, Table([(0, "b", ACT[act])])))
    g.outputs = outs
    return g


def bad_graphs():
    out = {}
    g = Graph("bad_mul")
    x = g.input("x", [1, 2, 2, 1])
    g.outputs = [g.op("MUL", [x, x], "y", [1, 2, 2, 1])]
    out["bad_mul"] = (g, "unsupported TFLite op MUL at operator 0")
    g = Graph("bad_gelu", code_style="both")
    x = g.input("x", [1, 2, 2, 1])
    g.outputs = [g.op("RELU", [g.op("GELU", [x], "g", [1, 2, 2, 1])], "y", [1, 2, 2, 1])]
    out["bad_gelu"] = (g, "unsupported TFLite op GELU at operator 0")
    g = Graph("bad_custom")
    x = g.input("x", [1, 2, 2, 1])
    g.outputs = [g.op("CUSTOM", [x], "y", [1, 2, 2, 1], custom="Landmarks2TransformMatrix")]
    out["bad_custom"] = (g, "unsupported TFLite custom op 'Landmarks2TransformMatrix' at operator 0")
    g = Graph("bad_depth_multiplier")
    x = g.input("x", [1, 4, 4, 3])
    w = g.const_f32("w", [1, 3, 3, 6])
    g.outputs = [g.op("DEPTHWISE_CONV_2D", [x, w], "y", [1, 4, 4, 6], 2, dw_opt("SAME", 1, 1, 2))]
    out["bad_depth_multiplier"] = (g, "depth_multiplier 2 is not supported")
    g = Graph("bad_int8")
    x = g.input("x", [1, 2, 2, 1])
    q = g.tensor("q", [1, 2, 2, 1], "INT8")
    g.inputs.append(q)
    g.outputs = [g.op("ADD", [x, q], "y", [1, 2, 2, 1])]
    out["bad_int8"] = (g, "unsupported tensor type INT8")
    g = Graph("bad_dataflow")
    x = g.input("x", [1, 2, 2, 1])
    ghost = g.tensor("ghost", [1, 2, 2, 1])
    g.outputs = [g.op("ADD", [x, ghost], "y", [1, 2, 2, 1])]
    out["bad_dataflow"] = (g, "before any operator writes it")
    return out


# ---- reference runs ------------------------------------------------------------------------------
def pattern(shape, n=0):
    _, H, W, C = shape
    f32 = struct.Struct("<f")
    v = []
    for h in range(H):
        for w in range(W):
            for c in range(C):
                x = 0.75 * math.sin(0.21 * h + 0.13 * w + 2.1 * c + 0.5 * n) + \
                    0.25 * math.cos(0.07 * h * (c + 1) - 0.19 * w + 0.3 * n)
                v.append(f32.unpack(f32.pack(x))[0])
    return v


def ref_model_class(tools):
    sys.path.insert(0, tools)
    from tflite_ref import RefModel, act  # noqa: E402

    class Ref(RefModel):
        # ops / fused activations the reference lacks, written here (trivially) for the tiny graphs
        def op_TANH(self, ins, o, out_shape, op):
            return (ins[0][0], [math.tanh(x) for x in ins[0][1]])

        def op_RELU_N1_TO_1(self, ins, o, out_shape, op):
            return (ins[0][0], [min(max(x, -1.0), 1.0) for x in ins[0][1]])

        def op_CONCATENATION(self, ins, o, out_shape, op):  # the reference ignores the fused activation
            s, v = RefModel.op_CONCATENATION(self, ins, o, out_shape, op)
            return (s, act2(v, o.get("act")))

    def act2(v, a):
        if a == "TANH":
            return [math.tanh(x) for x in v]
        if a == "RELU_N1_TO_1":
            return [min(max(x, -1.0), 1.0) for x in v]
        return act(v, a)
    sys.modules["tflite_ref"].act = act2
    return Ref


def r9(v):
    # 9 significant digits: exact for float32, far below the test tolerances, and half the text
    return [float("%.9g" % x) for x in v]


def summary(shape, v, max_samples):
    stride = max(1, -(-len(v) // max_samples))
    return {"shape": shape, "count": len(v), "sum": math.fsum(v), "abs_sum": math.fsum(abs(x) for x in v),
            "min": min(v), "max": max(v), "stride": stride, "samples": r9(v[::stride])}


def run_tiny(Ref, g, out_dir):
    buf = g.build()
    m = Ref(buf)
    T = m.sg["tensors"]
    feeds = {i: pattern(T[i]["shape"], k) for k, i in enumerate(m.sg["inputs"])}
    vals = m.run(feeds, keep_all=True)
    steps = []
    for k, op in enumerate(m.sg["operators"]):
        if op["op"] == "DEQUANTIZE":
            continue
        t = op["outputs"][0]
        s, v = vals[t]
        steps.append({"op_index": k, "op": op["op"], "tensor": t, "name": T[t]["name"], "shape": s, "values": r9(v)})
    gold = {"model": g.name + ".tflite", "input_pattern": "n = input index (see gen_tflite_golden.py)",
            "inputs": [T[i]["shape"] for i in m.sg["inputs"]],
            "outputs": [{"tensor": i, "name": T[i]["name"], "shape": vals[i][0], "values": r9(vals[i][1])}
                        for i in m.sg["outputs"]],
            "steps": steps}
    with open(os.path.join(out_dir, g.name + ".tflite"), "wb") as f:
        f.write(buf)
    with open(os.path.join(out_dir, g.name + ".json"), "w") as f:
        json.dump(gold, f, separators=(",", ":"))
    print("wrote %s (%d bytes, %d steps)" % (g.name, len(buf), len(steps)))


def run_real(Ref, path, out_dir, max_samples=1000):
    import time
    data = open(path, "rb").read()
    m = Ref(data)
    T = m.sg["tensors"]
    (inp,) = m.sg["inputs"]
    t0 = time.time()
    vals = m.run({inp: pattern(T[inp]["shape"])}, keep_all=True)
    dt = time.time() - t0
    outs = []
    for i in m.sg["outputs"]:
        s, v = vals[i]
        d = summary(s, v, max_samples)
        d.update({"tensor": i, "name": T[i]["name"]})
        outs.append(d)
    seen, inter = set(), []
    for k, op in enumerate(m.sg["operators"]):
        if op["op"] in seen or op["op"] == "DEQUANTIZE":
            continue
        seen.add(op["op"])
        t = op["outputs"][0]
        s, v = vals[t]
        d = summary(s, v, 256)
        d.update({"op_index": k, "op": op["op"], "tensor": t, "name": T[t]["name"]})
        inter.append(d)
    name = os.path.basename(path)
    gold = {"model": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "input_pattern": "0.75*sin(0.21*h + 0.13*w + 2.1*c) + 0.25*cos(0.07*h*(c+1) - 0.19*w), float32",
            "input_shape": T[inp]["shape"], "reference": "tflite_ref.py (double precision)",
            "outputs": outs, "intermediates": inter}
    out = os.path.join(out_dir, "golden_" + os.path.splitext(name)[0] + ".json")
    with open(out, "w") as f:
        json.dump(gold, f, separators=(",", ":"))
    print("wrote %s (reference run %.1f s)" % (out, dt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "tflite"))
    ap.add_argument("--assets", default=os.environ.get("FACET_ASSETS", os.path.join(REPO, "assets")))
    ap.add_argument("--ref-tools", default=os.environ.get("FACET_REF_TOOLS"),
                    help="folder holding tflite_ref.py (default: $FACET_REF_TOOLS)")
    ap.add_argument("--tiny-only", action="store_true")
    a = ap.parse_args()
    if not a.ref_tools:
        ap.error("pass --ref-tools DIR (or set FACET_REF_TOOLS): the folder holding tflite_ref.py")
    os.makedirs(a.out, exist_ok=True)
    Ref = ref_model_class(a.ref_tools)
    for g in (tiny_conv(), tiny_blocks(), tiny_add_activations()):
        run_tiny(Ref, g, a.out)
    expected = {}
    for name, (g, msg) in bad_graphs().items():
        with open(os.path.join(a.out, name + ".tflite"), "wb") as f:
            f.write(g.build())
        expected[name + ".tflite"] = msg
    with open(os.path.join(a.out, "bad_graphs.json"), "w") as f:
        json.dump(expected, f, indent=1)
    if a.tiny_only:
        return
    for m in ("face_detection_short_range", "face_detection_full_range", "face_landmark"):
        run_real(Ref, os.path.join(a.assets, m + ".tflite"), a.out)


if __name__ == "__main__":
    main()
