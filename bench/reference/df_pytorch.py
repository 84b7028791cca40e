#!/usr/bin/env python3
"""PyTorch reference for `facet bench train`: DeepFaceLab SAEHD's DF model, loss and optimizer.

The same network, loss and update as facet's `df128` preset (engine/models, docs/models.md),
written the way a careful PyTorch user would for speed: bf16 autocast, channels_last, fused
multi-tensor optimizer, optional torch.compile. Run it beside `facet bench train` on the same GPU:

    python3 bench/reference/df_pytorch.py --batch 8 --iters 100
    build/bin/facet bench train --preset df128 --batch 8 --iters 100 --no-augment

Like-for-like: this script times model + loss + backward + optimizer on batches already on the
GPU (no augmentation), so compare it with `facet bench train --no-augment`; facet's default bench
also builds each batch with its on-device DFL augmentation.

What it implements (DeepFaceLab's core/leras/archis/DeepFakeArchi.py, models/Model_SAEHD/Model.py,
core/leras/optimizers/AdaBelief.py):
  * DF, archi "df-ud", resolution 128, ae_dims 256, e_dims 64, d_dims 64, d_mask_dims 22:
    encoder 4 x [conv k5 s2 + lrelu 0.1] -> flatten -> pixel_norm; inter Dense(32768->256) ->
    Dense(256->4*4*256) -> reshape -> Upscale; two decoders (3 x [Upscale + ResidualBlock], four
    output convs + depth_to_space + sigmoid; mask branch of 4 Upscales + 1x1 conv + sigmoid).
    Depth-to-space uses TF/DFL "DCR" channel order, not PyTorch's pixel_shuffle (CRD).
    Parameter count: 54,470,998 (checked at start-up).
  * SAEHD loss per side and sample: soft mask mb = clip(gaussian_blur(mask, R//32), 0, 0.5) * 2;
    10 * DSSIM(target*mb, pred*mb, window int(R/11.6) = 11, sigma 1.5, VALID)
    + 10 * mean((target*mb - pred*mb)^2) + 10 * mean((mask - pred_mask)^2).
    The objective is the SUM over the batch of src + dst (DFL's tf.gradients of the loss vector).
  * DFL's AdaBelief: m = b1 m + (1-b1) g; v = b2 v + (1-b2) (g-m)^2; w -= lr m / (sqrt(v) + eps),
    lr 5e-5, b1 0.9, b2 0.999, eps 1e-6, no bias correction. fp32 master weights and state.

Needs: torch (CUDA build) and numpy. Self-contained: no facet code, no files.
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# Layers (DFL DeepFakeArchi.py)

def depth_to_space_dcr(x, r=2):
    """TF depth_to_space (DCR): out[b, c, h*r+i, w*r+j] = in[b, (i*r+j)*C + c, h, w]."""
    b, c, h, w = x.shape
    oc = c // (r * r)
    x = x.reshape(b, r, r, oc, h, w)
    x = x.permute(0, 3, 4, 1, 5, 2)
    return x.reshape(b, oc, h * r, w * r)


class Conv(nn.Conv2d):
    """Conv with DFL's symmetric 'SAME' padding (k-1)//2, glorot-uniform kernel, zero bias."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=True)
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)


class Dense(nn.Linear):
    def __init__(self, cin, cout):
        super().__init__(cin, cout, bias=True)
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)


class Downscale(nn.Module):
    def __init__(self, cin, cout, k=5):
        super().__init__()
        self.conv1 = Conv(cin, cout, k, stride=2)

    def forward(self, x):
        return F.leaky_relu(self.conv1(x), 0.1)


class Upscale(nn.Module):
    def __init__(self, cin, cout, k=3):
        super().__init__()
        self.conv1 = Conv(cin, cout * 4, k)

    def forward(self, x):
        return depth_to_space_dcr(F.leaky_relu(self.conv1(x), 0.1), 2)  # activation before the shuffle


class ResidualBlock(nn.Module):
    def __init__(self, ch, k=3):
        super().__init__()
        self.conv1 = Conv(ch, ch, k)
        self.conv2 = Conv(ch, ch, k)

    def forward(self, inp):
        x = F.leaky_relu(self.conv1(inp), 0.2)
        x = self.conv2(x)
        return F.leaky_relu(inp + x, 0.2)


class Encoder(nn.Module):
    def __init__(self, e):
        super().__init__()
        chans = [3, e, e * 2, e * 4, e * 8]
        self.downs = nn.ModuleList([Downscale(chans[i], chans[i + 1]) for i in range(4)])

    def forward(self, x):
        for d in self.downs:
            x = d(x)
        x = torch.flatten(x, 1)  # (C, H, W) order, as DFL's NCHW flatten
        # pixel_norm (`u`), in fp32 for the reduction.
        xf = x.float()
        return (xf * torch.rsqrt(torch.mean(xf * xf, dim=-1, keepdim=True) + 1e-6)).to(x.dtype)


class Inter(nn.Module):
    def __init__(self, cin, ae, ae_out, lowest):
        super().__init__()
        self.lowest, self.ae_out = lowest, ae_out
        self.dense1 = Dense(cin, ae)
        self.dense2 = Dense(ae, lowest * lowest * ae_out)
        self.upscale1 = Upscale(ae_out, ae_out)

    def forward(self, x):
        x = self.dense2(self.dense1(x))
        x = x.reshape(-1, self.ae_out, self.lowest, self.lowest).contiguous(memory_format=torch.channels_last)
        return self.upscale1(x)


class Decoder(nn.Module):
    def __init__(self, cin, d, m):
        super().__init__()
        self.upscale0, self.res0 = Upscale(cin, d * 8), ResidualBlock(d * 8)
        self.upscale1, self.res1 = Upscale(d * 8, d * 4), ResidualBlock(d * 4)
        self.upscale2, self.res2 = Upscale(d * 4, d * 2), ResidualBlock(d * 2)
        self.upscalem0 = Upscale(cin, m * 8)
        self.upscalem1 = Upscale(m * 8, m * 4)
        self.upscalem2 = Upscale(m * 4, m * 2)
        self.upscalem3 = Upscale(m * 2, m)  # `d`
        self.out_conv = Conv(d * 2, 3, 1)
        self.out_conv1 = Conv(d * 2, 3, 3)
        self.out_conv2 = Conv(d * 2, 3, 3)
        self.out_conv3 = Conv(d * 2, 3, 3)
        self.out_convm = Conv(m, 1, 1)

    def forward(self, z):
        x = self.res0(self.upscale0(z))
        x = self.res1(self.upscale1(x))
        x = self.res2(self.upscale2(x))
        x = torch.cat([self.out_conv(x), self.out_conv1(x), self.out_conv2(x), self.out_conv3(x)], dim=1)
        img = torch.sigmoid(depth_to_space_dcr(x, 2))
        y = self.upscalem3(self.upscalem2(self.upscalem1(self.upscalem0(z))))
        return img, torch.sigmoid(self.out_convm(y))


class DF(nn.Module):
    def __init__(self, res=128, ae=256, e=64, d=64, m=22):
        super().__init__()
        lowest = res // 32  # `d` opt
        enc_res = res // 16
        self.encoder = Encoder(e)
        self.inter = Inter(e * 8 * enc_res * enc_res, ae, ae, lowest)
        self.decoder_src = Decoder(ae, d, m)
        self.decoder_dst = Decoder(ae, d, m)

    def forward(self, warped_src, warped_dst):
        n = warped_src.shape[0]
        code = self.inter(self.encoder(torch.cat([warped_src, warped_dst], 0)))  # shared weights: one pass
        src_img, src_mask = self.decoder_src(code[:n])
        dst_img, dst_mask = self.decoder_dst(code[n:])
        return src_img, src_mask, dst_img, dst_mask


# ---------------------------------------------------------------------------------------------
# Loss (Model_SAEHD/Model.py L437-492)

def dfl_gaussian_kernel(sigma):
    ks = max(3, int(2 * 2 * sigma))
    if ks % 2 == 0:
        ks += 1
    mean = math.floor(0.5 * ks)
    k1 = np.array([math.exp(-(x - mean) ** 2 / (2 * sigma ** 2)) for x in range(ks)])
    k2 = np.outer(k1, k1)
    return torch.tensor(k2 / k2.sum(), dtype=torch.float32), ks


def dssim_kernel(size, sigma=1.5):
    coords = np.arange(size, dtype=np.float32) - (size - 1) / 2.0
    g = coords ** 2 * (-0.5 / sigma ** 2)
    g = g.reshape(1, -1) + g.reshape(-1, 1)
    g = np.exp(g - g.max())
    return torch.tensor(g / g.sum(), dtype=torch.float32)  # softmax over the window


class SaehdLoss(nn.Module):
    def __init__(self, res=128):
        super().__init__()
        blur, self.blur_ks = dfl_gaussian_kernel(max(1, res // 32))
        self.register_buffer("blur", blur[None, None])
        self.fs = int(res / 11.6)
        self.register_buffer("win", dssim_kernel(self.fs)[None, None].repeat(3, 1, 1, 1))

    def dssim(self, a, b):  # [N,3,H,W] fp32 -> [N]
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        red = lambda x: F.conv2d(x, self.win, groups=3)  # VALID
        m0, m1 = red(a), red(b)
        num0 = m0 * m1 * 2.0
        den0 = m0 * m0 + m1 * m1
        lum = (num0 + c1) / (den0 + c1)
        num1 = red(a * b) * 2.0
        den1 = red(a * a + b * b)
        cs = (num1 - num0 + c2) / (den1 - den0 + c2)
        ssim = (lum * cs).mean(dim=(2, 3))
        return ((1.0 - ssim) / 2.0).mean(dim=1)

    def forward(self, target, pred, pred_mask, mask):  # per-sample [N]
        pad = self.blur_ks // 2
        mb = F.conv2d(F.pad(mask, (pad, pad, pad, pad)), self.blur)
        mb = torch.clamp(mb, 0, 0.5) * 2
        t, p = target * mb, pred * mb
        loss = 10 * self.dssim(t, p)
        loss = loss + 10 * ((t - p) ** 2).mean(dim=(1, 2, 3))
        loss = loss + 10 * ((mask - pred_mask) ** 2).mean(dim=(1, 2, 3))
        return loss


# ---------------------------------------------------------------------------------------------
# DFL AdaBelief (core/leras/optimizers/AdaBelief.py), multi-tensor

class DflAdaBelief(torch.optim.Optimizer):
    def __init__(self, params, lr=5e-5, beta1=0.9, beta2=0.999, eps=1e-6):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            ps = [p for p in g["params"] if p.grad is not None]
            grads = [p.grad for p in ps]
            for p in ps:
                if not self.state[p]:
                    self.state[p]["m"] = torch.zeros_like(p)
                    self.state[p]["v"] = torch.zeros_like(p)
            ms = [self.state[p]["m"] for p in ps]
            vs = [self.state[p]["v"] for p in ps]
            b1, b2 = g["beta1"], g["beta2"]
            torch._foreach_mul_(ms, b1)
            torch._foreach_add_(ms, grads, alpha=1 - b1)          # m = b1 m + (1-b1) g
            diff = torch._foreach_sub(grads, ms)                  # g - m (the new m, as DFL)
            torch._foreach_mul_(diff, diff)
            torch._foreach_mul_(vs, b2)
            torch._foreach_add_(vs, diff, alpha=1 - b2)           # v = b2 v + (1-b2) (g-m)^2
            denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, g["eps"])
            torch._foreach_addcdiv_(ps, ms, denom, value=-g["lr"])  # w -= lr m / (sqrt(v) + eps)


# ---------------------------------------------------------------------------------------------

def synthetic_batches(count, batch, res, device):
    """Face-like batches already on the device: images in [0,1], soft elliptical masks."""
    gen = torch.Generator(device="cpu").manual_seed(1)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, res), torch.linspace(-1, 1, res), indexing="ij")
    out = []
    for _ in range(count):
        sides = []
        for _ in range(2):
            img = torch.rand(batch, 3, res, res, generator=gen) * 0.3 + 0.35
            cx = (torch.rand(batch, 1, 1, generator=gen) - 0.5) * 0.2
            mask = (((xx - cx) ** 2 / 0.5 + yy ** 2 / 0.7) < 1).float()[:, None]
            img = img * (0.6 + 0.4 * mask)
            sides.append((img.to(device).contiguous(memory_format=torch.channels_last),
                          mask.to(device).contiguous(memory_format=torch.channels_last)))
        out.append(sides)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=8, help="faces per side per iteration")
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--res", type=int, default=128)
    ap.add_argument("--ae", type=int, default=256)
    ap.add_argument("--e", type=int, default=64)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--m", type=int, default=22)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    ap.add_argument("--compile", action="store_true", help="torch.compile the training step")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()

    dev = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(0)
    model = DF(args.res, args.ae, args.e, args.d, args.m).to(dev).to(memory_format=torch.channels_last)
    n_params = sum(p.numel() for p in model.parameters())
    if (args.res, args.ae, args.e, args.d, args.m) == (128, 256, 64, 64, 22):
        assert n_params == 54_470_998, f"parameter count {n_params} != 54,470,998 (facet df128)"
    loss_fn = SaehdLoss(args.res).to(dev)
    opt = DflAdaBelief(model.parameters(), lr=args.lr)
    use_bf16 = not args.fp32 and dev.type == "cuda"

    def train_step(src, srcm, dst, dstm):
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_bf16):
            si, sm, di, dm = model(src, dst)
        ls = loss_fn(src, si.float(), sm.float(), srcm)
        ld = loss_fn(dst, di.float(), dm.float(), dstm)
        (ls.sum() + ld.sum()).backward()  # DFL: gradients of the summed per-sample losses
        return ls.detach().mean(), ld.detach().mean()

    step_fn = torch.compile(train_step) if args.compile else train_step
    batches = synthetic_batches(8, args.batch, args.res, dev)

    def run(n, start):
        out = None
        for i in range(n):
            (src, srcm), (dst, dstm) = batches[(start + i) % len(batches)]
            opt.zero_grad(set_to_none=False)
            out = step_fn(src, srcm, dst, dstm)
            opt.step()
        return out

    run(args.warmup, 0)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    ls, ld = run(args.iters, args.warmup)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    ms = secs * 1000 / args.iters
    # Analytic FLOPs as facet counts them (2 x MAC of convs and denses; training = 3 x forward).
    gflop_img = 3 * 15.23  # df-ud 128: forward 15.23 GFLOP/image (docs/models.md)
    tflops = gflop_img * 2 * args.batch * args.iters / secs / 1000
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"device        {name}")
    print(f"config        DF df-ud {args.res}px ae {args.ae} e {args.e} d {args.d} m {args.m}, "
          f"{n_params / 1e6:.2f}M parameters, {'bf16 autocast' if use_bf16 else 'fp32'}, channels_last"
          f"{', torch.compile' if args.compile else ''}, torch {torch.__version__}")
    print(f"batch         {args.batch} per side, {args.iters} timed iterations")
    print(f"ms/iteration  {ms:.2f}")
    print(f"images/s      {2 * args.batch * 1000 / ms:.1f}")
    if (args.res, args.ae, args.e, args.d, args.m) == (128, 256, 64, 64, 22):
        print(f"achieved      {tflops:.2f} TFLOP/s (analytic {gflop_img * 2 * args.batch:.1f} GFLOP/iteration)")
    if dev.type == "cuda":
        print(f"peak memory   {torch.cuda.max_memory_allocated(dev) / 2**20:.1f} MiB")
    print(f"last loss     src {ls.item():.4f} dst {ld.item():.4f}")


if __name__ == "__main__":
    main()
