#!/usr/bin/env python3
"""Writes DeepFaceLab aligned face files (DFLJPG) for facet's DFL reader tests. Python 3 stdlib only.

DeepFaceLab (DFLIMG/DFLJPG.py, DFLJPG.dump) stores `pickle.dumps(dict)` in a JPEG APP15 segment
(marker FF EF) inserted after the last APPn segment; its numpy values are pickled by numpy's own
reduce methods. This script has no numpy: it registers stand-in modules named numpy,
numpy.core.multiarray (and numpy._core.multiarray for numpy 2 names) whose objects reduce exactly
as numpy's do, so Python's pickler writes the same opcodes as for DFL's real files:

  ndarray -> numpy.core.multiarray._reconstruct, (numpy.ndarray, (0,), b'b'),
             state (1, shape, dtype, is_fortran, raw bytes)          (numpy array_reduce)
  dtype   -> numpy.dtype, ('f4', False, True), state (3, '<', None, None, None, -1, -1, 0)
             one shared object per dtype, as numpy's built-in dtypes are singletons, so the
             second array of a dtype refers to it through the memo (BINGET)
  scalar  -> numpy.core.multiarray.scalar, (dtype, raw bytes)

The values follow mainscripts/Extractor.py (landmarks and source_landmarks via .tolist(),
source_rect np.array of ints, image_to_face_mat a float64 2x3 array), XSegEditor
(seg_ie_polys = SegIEPolys.dump(): {'polys': [{'type': 1, 'pts': float32 (n,2)}]}, or the
older list of (type, pts)) and XSegUtil (xseg_mask = the uint8 (n,1) buffer of cv2.imencode('.png')).

Usage: gen_dfl_faces.py --base PLAIN.jpg --out DIR
Writes into DIR: dfl_p3_full.jpg, dfl_p4_legacy.jpg, dfl_p4_numpy2.jpg (each the base JPEG with a
DFL APP15 segment), and dfl_expected.json: per file, the values a reader must find (floats
already rounded to the precision they were stored in), and the xseg mask's rule.
"""
import argparse
import json
import math
import os
import pickle
import struct
import sys
import types
import zlib


# ---- numpy stand-ins whose reduce output matches numpy's

def _module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    return m


class dtype:
    _cache = {}

    def __init__(self, code, byteorder):
        self.code, self.byteorder = code, byteorder

    def __reduce__(self):
        return (dtype, (self.code, False, True), (3, self.byteorder, None, None, None, -1, -1, 0))

    def __setstate__(self, state):
        self.byteorder = state[1]

    @classmethod
    def of(cls, code):
        if code not in cls._cache:
            cls._cache[code] = cls(code, '|' if code in ('u1', 'i1', 'b1') else '<')
        return cls._cache[code]


class ndarray:
    def __init__(self, code, shape, values, fortran=False):
        self.dt, self.shape, self.values, self.fortran = dtype.of(code), tuple(shape), list(values), fortran

    def raw(self):
        fmt = {'f4': 'f', 'f8': 'd', 'u1': 'B', 'i4': 'i', 'i8': 'q'}[self.dt.code]
        vals = self.values
        if self.fortran:  # store column-major, as numpy does for an F-ordered array
            rows, cols = self.shape
            vals = [self.values[r * cols + c] for c in range(cols) for r in range(rows)]
        return struct.pack('<%d%s' % (len(vals), fmt), *vals)

    def __reduce__(self):
        return (_reconstruct, (ndarray, (0,), b'b'), (1, self.shape, self.dt, self.fortran, self.raw()))


class scalar_value:
    def __init__(self, code, value):
        self.dt, self.value = dtype.of(code), value

    def __reduce__(self):
        fmt = {'f8': '<d', 'f4': '<f', 'i8': '<q'}[self.dt.code]
        return (scalar, (self.dt, struct.pack(fmt, self.value)))


def _reconstruct(*a):
    raise RuntimeError('stand-in only')


def scalar(*a):
    raise RuntimeError('stand-in only')


def install_numpy_names(core):
    """numpy 1.x names (numpy.core.multiarray) or numpy 2.x names (numpy._core.multiarray)."""
    for name in ('numpy', 'numpy.core', 'numpy.core.multiarray', 'numpy._core', 'numpy._core.multiarray'):
        if name not in sys.modules:
            _module(name)
    np = sys.modules['numpy']
    for cls in (dtype, ndarray):
        cls.__module__, cls.__qualname__ = 'numpy', cls.__name__
        setattr(np, cls.__name__, cls)
    mod = sys.modules[core + '.multiarray']
    for fn in (_reconstruct, scalar):
        fn.__module__, fn.__qualname__ = core + '.multiarray', fn.__name__
        setattr(mod, fn.__name__, fn)


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


# ---- a PNG mask, as cv2.imencode('.png', uint8 mask) stores it (8-bit gray)

def mask_pixel(x, y, size):
    c = size / 2
    return 255 if (x - c) ** 2 + (y - c * 0.9) ** 2 < (size * 0.35) ** 2 else 0


def png_gray(size):
    rows = b''.join(b'\0' + bytes(mask_pixel(x, y, size) for x in range(size)) for y in range(size))

    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', size, size, 8, 0, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


# ---- DFLJPG.dump: drop any APP15, insert ours after the last APPn segment

def insert_app15(jpeg, payload):
    assert jpeg[:2] == b'\xff\xd8', 'base is not a JPEG'
    assert len(payload) + 2 <= 0xffff, 'pickle too large for one APP15 segment'
    segs, pos = [], 2
    while True:
        marker = jpeg[pos + 1]
        length = struct.unpack('>H', jpeg[pos + 2:pos + 4])[0]
        segs.append((marker, jpeg[pos:pos + 2 + length]))
        pos += 2 + length
        if marker == 0xDA:
            break
    segs = [s for s in segs if s[0] != 0xEF]
    last_app = max([i for i, (m, _) in enumerate(segs) if m & 0xF0 == 0xE0], default=-1)
    segs.insert(last_app + 1, (0xEF, b'\xff\xef' + struct.pack('>H', len(payload) + 2) + payload))
    return b'\xff\xd8' + b''.join(s for _, s in segs) + jpeg[pos:]


def face_landmarks(size, phase):
    """68 points spread over the face image, distinct per file."""
    return [[size * (0.2 + 0.6 * (i % 17) / 16) + phase, size * (0.25 + 0.5 * (i // 17) / 3) + 0.37 * math.sin(i + phase)]
            for i in range(68)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base', required=True, help='a plain JPEG face image (no APP15)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    base = open(args.base, 'rb').read()
    size = struct.unpack('>H', base[base.index(b'\xff\xc0') + 7:][:2])[0]  # SOF0 width
    os.makedirs(args.out, exist_ok=True)
    expected = {}

    def write(name, protocol, core, d, exp):
        dtype._cache.clear()
        install_numpy_names(core)
        with open(os.path.join(args.out, name), 'wb') as f:
            f.write(insert_app15(base, pickle.dumps(d, protocol=protocol)))
        expected[name] = exp

    mask_png = png_gray(size)
    mat = [0.5, 0.125, -10.25, -0.125, 0.5, 20.75]

    # 1. protocol 3 (DFL's Python 3.6/3.7 builds): everything DFL writes, in its usual shapes
    lm = face_landmarks(size, 0.0)
    src_lm = [[x * 2 + 10, y * 2 + 20] for x, y in lm]
    poly_inc = [(5.5, 6.25), (size - 5.0, 6.0), (size - 6.0, size - 7.5), (6.0, size - 5.0)]
    poly_exc = [(20.0, 20.0), (30.0, 20.0), (25.0, 30.0)]
    d = {'face_type': 'whole_face', 'landmarks': lm, 'source_filename': '00002.png',
         'source_rect': ndarray('i4', (4,), [10, 20, 110, 140]), 'source_landmarks': src_lm,
         'image_to_face_mat': ndarray('f8', (2, 3), mat), 'eyebrows_expand_mod': 1.5,
         'seg_ie_polys': {'polys': [{'type': 0, 'pts': ndarray('f4', (3, 2), [c for p in poly_exc for c in p])},
                                    {'type': 1, 'pts': ndarray('f4', (4, 2), [c for p in poly_inc for c in p])}]},
         'xseg_mask': ndarray('u1', (len(mask_png), 1), mask_png)}
    write('dfl_p3_full.jpg', 3, 'numpy.core', d, {
        'face_type': 'whole_face', 'landmarks': lm, 'source_filename': '00002.png', 'source_rect': [10, 20, 110, 140],
        'source_landmarks': src_lm, 'image_to_face_mat': [mat[0:3], mat[3:6]], 'eyebrows_expand_mod': 1.5,
        'polygons': [{'include': True, 'points': [[f32(x), f32(y)] for x, y in poly_inc]},
                     {'include': False, 'points': [[f32(x), f32(y)] for x, y in poly_exc]}],
        'xseg_mask': 'circle'})

    # 2. protocol 4 (Python 3.8+): float32 array landmarks, a numpy float64 scalar, the older
    #    list-of-(type, points) polygons, int64 rect, Fortran-ordered matrix, no xseg mask
    lm2 = [[f32(x), f32(y)] for x, y in face_landmarks(size, 1.25)]
    d = {'face_type': 'full_face', 'landmarks': ndarray('f4', (68, 2), [c for p in lm2 for c in p]),
         'source_filename': '00001.png', 'source_rect': ndarray('i8', (4,), [-3, 4, 50, 61]),
         'source_landmarks': [[x + 1, y + 1] for x, y in lm2], 'image_to_face_mat': ndarray('f8', (2, 3), mat, fortran=True),
         'eyebrows_expand_mod': scalar_value('f8', 0.75), 'seg_ie_polys': [(1, [[1.0, 2.0], [30.0, 2.0], [16.0, 40.0]])],
         'unknown_key': {'kept': None}}
    write('dfl_p4_legacy.jpg', 4, 'numpy.core', d, {
        'face_type': 'full_face', 'landmarks': lm2, 'source_filename': '00001.png', 'source_rect': [-3, 4, 50, 61],
        'source_landmarks': [[x + 1, y + 1] for x, y in lm2], 'image_to_face_mat': [mat[0:3], mat[3:6]],
        'eyebrows_expand_mod': 0.75, 'polygons': [{'include': True, 'points': [[1.0, 2.0], [30.0, 2.0], [16.0, 40.0]]}],
        'xseg_mask': None})

    # 3. numpy 2 names (numpy._core.multiarray), no face_type (DFL then assumes full_face), a
    #    second face of frame 00001.png
    lm3 = face_landmarks(size, 2.5)
    d = {'landmarks': lm3, 'source_filename': '00001.png', 'source_rect': ndarray('i8', (4,), [60, 4, 100, 61]),
         'source_landmarks': [[x + 60, y] for x, y in lm3], 'image_to_face_mat': ndarray('f8', (2, 3), mat),
         'xseg_mask': ndarray('u1', (len(mask_png), 1), mask_png)}
    write('dfl_p4_numpy2.jpg', 4, 'numpy._core', d, {
        'face_type': 'full_face', 'landmarks': lm3, 'source_filename': '00001.png', 'source_rect': [60, 4, 100, 61],
        'source_landmarks': [[x + 60, y] for x, y in lm3], 'image_to_face_mat': [mat[0:3], mat[3:6]],
        'eyebrows_expand_mod': 1.0, 'polygons': [], 'xseg_mask': 'circle'})

    with open(os.path.join(args.out, 'dfl_expected.json'), 'w') as f:
        json.dump({'size': size, 'mask_rule': '(x - s/2)^2 + (y - 0.45 s)^2 < (0.35 s)^2: 255, else 0',
                   'files': expected}, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
