"""Chunkwise KDA in Triton: forward and backward (chunk C = 64), fp32 state.

Forward, per (sequence, head):
  1. `_intra_fwd_kernel`, one program per chunk (parallel), over K blocks: G = cumsum(g) in
     fp32, G_C, Qg = exp(G) q scale, Kd = exp(G_C - G) k, Kb = beta exp(G) k; Akk~ (unscaled
     by beta) and Aqk as four [16, C] row blocks. Row blocks against all C columns keep
     every dot wider than tall, so Triton spreads the warps over columns: with square
     [16, 16] dots that share operands it gives each warp the whole tile (the same dots on
     every warp, twice the registers).
  2. `_solve_kernel`, one program per chunk: N = (I + Diag(beta) Akk~)^-1 blockwise in fp32.
     A kernel of its own (forward 1.83 ms at B4 T8192 against 1.87 inside the intra kernel).
  3. `_wu_fwd_kernel`, one program per (chunk, K or V block of up to 128): W = N Kb, U = N (beta V).
  4. `_inter_fwd_kernel`, one program per V block (sequential over chunks): the state S in
     registers; Vnew = U - W S; O = Qg S + Aqk Vnew; S <- exp(G_C) S + Kd^T Vnew.
Backward:
  5. `_inter_bwd_kernel` (sequential, reversed): dVnew = Aqk^T dO + Kd dS and the state
     gradient dS <- exp(G_C) dS + Qg^T dO - W^T dVnew, stored per chunk.
  6. `_bwd_wkd_kernel` (per K block of 64 and chunk): dQg, dKd, dW over V; through W: the
     non-pairwise parts of dq, dk, dG and this K block's share of dN and dbeta.
  7. `_bwd_vA_kernel` (per chunk): dv, dAqk, and dA = d Akk~ through the solve; dbeta.
  8. `_bwd_pair_kernel` (per K block of 16 and chunk): the pairwise-decay gradients in
     16x16 blocks, row blocks last to first, then dg = reverse cumsum of dG.

Numerics (KDA notes): gate, cumsum, state and the solve in fp32; no exp(-G) over a chunk.
Block (I, J <= I) of a pairwise matrix sum_d a_id b_jd exp(G_id - G_jd) is a tensor-core
dot factored around a reference R of row block I: (a_i exp(G_i - R)) . (b_j exp(R - G_j)).
Where G falls by at most FAST_DROP_LIMIT inside block I (every channel of the K block), R
is its middle, every factor stays within exp(+-LIMIT/2) and the diagonal block is a dot
too; otherwise R is G entering the block (factors <= 1 for J < I) and the diagonal block
is summed exactly, column by column. The solve inverts the diagonal blocks as
(I - A)(I + A^2)(I + A^4)(I + A^8) (exact: A^16 = 0) and fills N_IJ = -N_II sum_M A_IM N_MJ.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

__all__ = ["chunk_kda_core", "CHUNK"]

CHUNK = 64  # C: chunk length
SUB = 16  # diagonal block size inside a chunk
# A 16-row block whose cumulative log decay falls by at most this much (every channel) is
# computed with tensor-core dots around its middle row (factors within exp(+-40)); blocks
# that fall further are summed exactly. Tests set it below zero to force the exact path.
FAST_DROP_LIMIT = 80.0
INTRA_BK, INTRA_WARPS, INTRA_STAGES = 32, 4, 2  # K block, warps, stages: intra-chunk forward
# Register cap of the intra kernel (0: ptxas's choice). ptxas takes all 255 at 4 warps (two
# programs per SM); at 168 three fit, and the spills that costs are cheaper (run 17).
INTRA_MAXNREG = 168
PAIR_BK, PAIR_WARPS = 16, 1  # K block and warps of the pairwise-gradient kernel
SOLVE_PRECISION = "ieee"  # dots of the triangular solve: fp32 FMA (16x16 blocks)
SOLVE_WARPS = 1  # warps of the solve kernel
WU_BLOCK, WU_WARPS = 128, 4  # K / V block and warps of the W, U kernel
# Sequential passes: V block (0: by the number of sequences x heads), warps, stages.
INTER_BV, INTER_WARPS, INTER_STAGES = 0, 4, 3
INTER_BWD_BV, INTER_BWD_STAGES = 0, 3


@triton.jit
def _cast(x, DT: tl.constexpr):
    """Operand cast for tl.dot: 1 = bf16, 2 = fp16, 0 = keep fp32 (tf32 on GPU)."""
    if DT == 1:
        return x.to(tl.bfloat16)
    elif DT == 2:
        return x.to(tl.float16)
    else:
        return x


@triton.jit
def _row(x, rows, n):
    """Row n of a 2-D tile (rows indexed by `rows`) as a vector."""
    return tl.sum(tl.where(rows[:, None] == n, x, 0.0), axis=0)


@triton.jit
def _tile(ptr, row0, r16, mask, H, D: tl.constexpr, cd):
    """Rows row0 + r16 of a chunk-local [C, D] slice (token-major, H heads), columns cd, fp32."""
    off = ((row0 + r16) * H)[:, None] * D + cd[None, :]
    return tl.load(ptr + off, mask=mask[:, None], other=0.0).to(tl.float32)


@triton.jit
def _put(ptr, x, row0, col0, r16, c16, mask, H, C: tl.constexpr):
    """Store a [16, n] block at (row0, col0) of a chunk-local [C, C] matrix."""
    off = ((row0 + r16) * H)[:, None] * C + (col0 + c16)[None, :]
    tl.store(ptr + off, x.to(ptr.dtype.element_ty), mask=mask[:, None])


@triton.jit
def _blk(ptr, row0, col0, r16, c16, mask, H, C: tl.constexpr):
    """Load the [SB, SB] block at (row0, col0) of a chunk-local [C, C] fp32 matrix."""
    off = ((row0 + r16) * H)[:, None] * C + (col0 + c16)[None, :]
    return tl.load(ptr + off, mask=mask[:, None], other=0.0)


@triton.jit
def _ref(carry, S, LIMIT: tl.constexpr):
    """Reference R of a 16-row block entered at cumulative decay `carry`, falling by -S in
    it: its middle when the fall is at most LIMIT in every channel (`fast`), else `carry`."""
    fast = tl.max(-S, axis=0) <= LIMIT
    return fast, carry + tl.where(fast, 0.5 * S, 0.0)


@triton.jit
def _inv16(A, r16, c16, PREC: tl.constexpr):
    """(I + A)^-1 of a strictly lower [16, 16] block as (I - A)(I + A^2)(I + A^4)(I + A^8),
    exact in exact arithmetic (A^16 = 0). In fp32 the powers of A can cancel: for strongly
    aligned keys (repeated tokens, beta ~ 0.9) the error reaches ~6e-5 absolute (forward
    substitution: ~3e-8), far below the bf16 rounding of everything downstream."""
    D = tl.where(r16[:, None] == c16[None, :], 1.0, 0.0) - A
    P = A
    for _ in tl.static_range(3):
        P = tl.dot(P, P, input_precision=PREC)
        D = D + tl.dot(D, P, input_precision=PREC)
    return D


@triton.jit
def _solve_from(
    Akk_buf, beta, N_buf, r16, c16, m0, m1, m2, m3, H,
    C: tl.constexpr, SB: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    """N = (I + A)^-1, A = Diag(beta) Akk~, solved blockwise in fp32 (PREC dots):
    N_II = (I + A_II)^-1, N_IJ = -N_II sum_{J <= M < I} A_IM N_MJ. The 16x16 blocks of Akk~
    are read from Akk_buf where they are needed and each block of N is stored once final,
    so that few blocks are live at a time."""
    bb = tl.load(beta + r16 * H, mask=m0, other=0.0).to(tl.float32)[:, None]
    n00 = _inv16(_blk(Akk_buf, 0, 0, r16, c16, m0, H, C) * bb, r16, c16, PREC)
    _put(N_buf, n00, 0, 0, r16, c16, m0, H, C)
    bb = tl.load(beta + (SB + r16) * H, mask=m1, other=0.0).to(tl.float32)[:, None]
    n11 = _inv16(_blk(Akk_buf, SB, SB, r16, c16, m1, H, C) * bb, r16, c16, PREC)
    a10 = _blk(Akk_buf, SB, 0, r16, c16, m1, H, C) * bb
    n10 = -tl.dot(n11, tl.dot(a10, n00, input_precision=PREC), input_precision=PREC)
    _put(N_buf, n11, SB, SB, r16, c16, m1, H, C)
    _put(N_buf, n10, SB, 0, r16, c16, m1, H, C)
    bb = tl.load(beta + (2 * SB + r16) * H, mask=m2, other=0.0).to(tl.float32)[:, None]
    n22 = _inv16(_blk(Akk_buf, 2 * SB, 2 * SB, r16, c16, m2, H, C) * bb, r16, c16, PREC)
    a21 = _blk(Akk_buf, 2 * SB, SB, r16, c16, m2, H, C) * bb
    n21 = -tl.dot(n22, tl.dot(a21, n11, input_precision=PREC), input_precision=PREC)
    a20 = _blk(Akk_buf, 2 * SB, 0, r16, c16, m2, H, C) * bb
    s20 = tl.dot(a20, n00, input_precision=PREC) + tl.dot(a21, n10, input_precision=PREC)
    n20 = -tl.dot(n22, s20, input_precision=PREC)
    _put(N_buf, n22, 2 * SB, 2 * SB, r16, c16, m2, H, C)
    _put(N_buf, n21, 2 * SB, SB, r16, c16, m2, H, C)
    _put(N_buf, n20, 2 * SB, 0, r16, c16, m2, H, C)
    bb = tl.load(beta + (3 * SB + r16) * H, mask=m3, other=0.0).to(tl.float32)[:, None]
    n33 = _inv16(_blk(Akk_buf, 3 * SB, 3 * SB, r16, c16, m3, H, C) * bb, r16, c16, PREC)
    a32 = _blk(Akk_buf, 3 * SB, 2 * SB, r16, c16, m3, H, C) * bb
    n32 = -tl.dot(n33, tl.dot(a32, n22, input_precision=PREC), input_precision=PREC)
    _put(N_buf, n32, 3 * SB, 2 * SB, r16, c16, m3, H, C)
    a31 = _blk(Akk_buf, 3 * SB, SB, r16, c16, m3, H, C) * bb
    s31 = tl.dot(a31, n11, input_precision=PREC) + tl.dot(a32, n21, input_precision=PREC)
    _put(N_buf, -tl.dot(n33, s31, input_precision=PREC), 3 * SB, SB, r16, c16, m3, H, C)
    a30 = _blk(Akk_buf, 3 * SB, 0, r16, c16, m3, H, C) * bb
    s30 = (
        tl.dot(a30, n00, input_precision=PREC)
        + tl.dot(a31, n10, input_precision=PREC)
        + tl.dot(a32, n20, input_precision=PREC)
    )
    _put(N_buf, -tl.dot(n33, s30, input_precision=PREC), 3 * SB, 0, r16, c16, m3, H, C)
    _put(N_buf, n33, 3 * SB, 3 * SB, r16, c16, m3, H, C)


@triton.jit
def _put_rows(ptr, x, row0, r16, cC, mask, H, C: tl.constexpr, DIAG: tl.constexpr):
    """Store rows row0 + r16 of a chunk-local [C, C] lower-triangular matrix (with its
    diagonal if DIAG), zeros above."""
    keep = cC[None, :] < (row0 + r16 + DIAG)[:, None]
    _put(ptr, tl.where(keep, x, 0.0), row0, 0, r16, cC, mask, H, C)


@triton.jit
def _row_block(
    accK, accQ, g, k, q, GA, kA, row0, carry, r16, cC, mask, H, K: tl.constexpr, ck, scale,
    LIMIT: tl.constexpr, HALF: tl.constexpr, PDT: tl.constexpr,
):  # fmt: skip
    """Row block row0 (16 rows, entered at cumulative decay `carry`) of Akk~ and Aqk against
    all C columns, for one K block: one dot pair around its reference R (see _ref) with the
    columns k_j exp(R - G_j) of the earlier blocks, and of its own block when `fast`; a steep
    block's diagonal block is summed exactly. Returns the sums and the carry after it."""
    gI = _tile(g, row0, r16, mask, H, K, ck)
    S = tl.sum(gI, axis=0)
    GI = tl.cumsum(gI, axis=0) + carry[None, :]
    kI = _tile(k, row0, r16, mask, H, K, ck)
    qI = _tile(q, row0, r16, mask, H, K, ck) * scale
    fast, R = _ref(carry, S, LIMIT)
    e = tl.exp(tl.minimum(GI - R[None, :], HALF))
    keep = cC < tl.where(fast, row0 + r16.shape[0], row0)
    kc = tl.where(keep[:, None], kA * tl.exp(tl.minimum(R[None, :] - GA, HALF)), 0.0)
    kc = tl.trans(_cast(kc, PDT))
    accK += tl.dot(_cast(kI * e, PDT), kc)
    accQ += tl.dot(_cast(qI * e, PDT), kc)
    if not fast:
        for jj in range(r16.shape[0]):
            kj = _row(kI, r16, jj)
            Gj = _row(GI, r16, jj)
            kje = kj[None, :] * tl.exp(tl.minimum(GI - Gj[None, :], 0.0))  # j <= i exact
            col = cC[None, :] == row0 + jj
            accK += tl.where(col & (r16[:, None] > jj), tl.sum(kI * kje, axis=1)[:, None], 0.0)
            accQ += tl.where(col & (r16[:, None] >= jj), tl.sum(qI * kje, axis=1)[:, None], 0.0)
    return accK, accQ, carry + S


@triton.jit
def _chunk_outputs(
    q, gA, GA, kA, bC, Qg_buf, Kd_buf, Kb_buf, G_buf, gC_buf, off, ck, cC, mC, H,
    K: tl.constexpr, scale, SAVE: tl.constexpr,
):  # fmt: skip
    """For one K block of a chunk (g, G = cumsum g, k as [C, BK]): G_C, G (if SAVE),
    Qg = exp(G) q scale, Kd = exp(G_C - G) k and Kb = beta exp(G) k."""
    GL = tl.sum(gA, axis=0)  # G_C (padded rows add 0)
    tl.store(gC_buf + ck, GL)
    m = mC[:, None]
    if SAVE:
        tl.store(G_buf + off, GA, mask=m)
    eA = tl.exp(GA)
    qg = _tile(q, 0, cC, mC, H, K, ck) * (eA * scale)
    tl.store(Qg_buf + off, qg.to(Qg_buf.dtype.element_ty), mask=m)
    tl.store(Kd_buf + off, (kA * tl.exp(GL[None, :] - GA)).to(Kd_buf.dtype.element_ty), mask=m)
    tl.store(Kb_buf + off, (kA * eA * bC[:, None]).to(Kb_buf.dtype.element_ty), mask=m)


@triton.jit
def _intra_fwd_kernel(
    q, k, g, beta,  # inputs [B, T, H, K], beta [B, T, H]
    G_buf, Akk_buf, Aqk_buf,  # G fp32 (SAVE); Akk~ fp32, Aqk [B, T, H, C]
    Qg_buf, Kd_buf, Kb_buf, gC_buf,  # [B, T, H, K] in dtype; gC fp32 [B, NT, H, K]
    scale, T, H, NT,
    K: tl.constexpr, C: tl.constexpr, SB: tl.constexpr, BK: tl.constexpr, PDT: tl.constexpr,
    SAVE: tl.constexpr, LIMIT: tl.constexpr, HALF: tl.constexpr,
):  # fmt: skip
    """Per chunk: G, Qg = exp(G) q scale, Kd = exp(G_C - G) k, Kb = beta exp(G) k and G_C;
    Akk~ and Aqk as four [16, C] row blocks summed over K blocks.
    Row blocks against all C columns keep each dot wider than tall: Triton then spreads the
    warps over the columns ([16, 16] dots sharing operands put every warp on the same tile)."""
    tl.static_assert(C == 4 * SB)
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    base = (i_b * T + i_c * C) * H + i_h
    q += base * K
    k += base * K
    g += base * K
    G_buf += base * K
    Qg_buf += base * K
    Kd_buf += base * K
    Kb_buf += base * K
    Akk_buf += base * C
    Aqk_buf += base * C
    r16 = tl.arange(0, SB)
    cC = tl.arange(0, C)
    t0 = i_c * C
    mC = (t0 + cC) < T
    m0 = (t0 + r16) < T
    m1 = (t0 + SB + r16) < T
    m2 = (t0 + 2 * SB + r16) < T
    m3 = (t0 + 3 * SB + r16) < T
    z = tl.zeros([SB, C], dtype=tl.float32)
    a0, a1, a2, a3, b0, b1, b2, b3 = z, z, z, z, z, z, z, z
    bC = tl.load(beta + base + cC * H, mask=mC, other=0.0).to(tl.float32)  # [C]
    for i_k in range(K // BK):
        ck = i_k * BK + tl.arange(0, BK)
        off = (cC * H)[:, None] * K + ck[None, :]
        gA = _tile(g, 0, cC, mC, H, K, ck)
        GA = tl.cumsum(gA, axis=0)  # [C, BK]
        kA = _tile(k, 0, cC, mC, H, K, ck)
        _chunk_outputs(q, gA, GA, kA, bC, Qg_buf, Kd_buf, Kb_buf, G_buf, gC_buf + ((i_b * NT + i_c) * H + i_h) * K, off, ck, cC, mC, H, K, scale, SAVE)  # fmt: skip
        c = tl.zeros([BK], dtype=tl.float32)
        a0, b0, c = _row_block(a0, b0, g, k, q, GA, kA, 0, c, r16, cC, m0, H, K, ck, scale, LIMIT, HALF, PDT)  # fmt: skip
        a1, b1, c = _row_block(a1, b1, g, k, q, GA, kA, SB, c, r16, cC, m1, H, K, ck, scale, LIMIT, HALF, PDT)  # fmt: skip
        a2, b2, c = _row_block(a2, b2, g, k, q, GA, kA, 2 * SB, c, r16, cC, m2, H, K, ck, scale, LIMIT, HALF, PDT)  # fmt: skip
        a3, b3, c = _row_block(a3, b3, g, k, q, GA, kA, 3 * SB, c, r16, cC, m3, H, K, ck, scale, LIMIT, HALF, PDT)  # fmt: skip

    _put_rows(Aqk_buf, b0, 0, r16, cC, m0, H, C, 1)
    _put_rows(Aqk_buf, b1, SB, r16, cC, m1, H, C, 1)
    _put_rows(Aqk_buf, b2, 2 * SB, r16, cC, m2, H, C, 1)
    _put_rows(Aqk_buf, b3, 3 * SB, r16, cC, m3, H, C, 1)
    _put_rows(Akk_buf, a0, 0, r16, cC, m0, H, C, 0)
    _put_rows(Akk_buf, a1, SB, r16, cC, m1, H, C, 0)
    _put_rows(Akk_buf, a2, 2 * SB, r16, cC, m2, H, C, 0)
    _put_rows(Akk_buf, a3, 3 * SB, r16, cC, m3, H, C, 0)


@triton.jit
def _solve_kernel(
    Akk_buf, beta, N_buf,  # Akk~ fp32 [B, T, H, C], beta [B, T, H]; N [B, T, H, C]
    T, H, C: tl.constexpr, SB: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    """Per chunk: N = (I + Diag(beta) Akk~)^-1 (see _solve_from)."""
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    base = (i_b * T + i_c * C) * H + i_h
    r16 = tl.arange(0, SB)
    t0 = i_c * C
    m0 = (t0 + r16) < T
    m1 = (t0 + SB + r16) < T
    m2 = (t0 + 2 * SB + r16) < T
    m3 = (t0 + 3 * SB + r16) < T
    _solve_from(Akk_buf + base * C, beta + base, N_buf + base * C, r16, r16, m0, m1, m2, m3, H, C, SB, PREC)  # fmt: skip


@triton.jit
def _wu_fwd_kernel(
    Kb_buf, v, beta, N_buf,  # Kb = beta exp(G) k [B, T, H, K], v, beta; N [B, T, H, C]
    W_buf, U_buf,  # [B, T, H, K|V] in dtype
    T, H,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    DT: tl.constexpr,
):  # fmt: skip
    """Per (chunk, K or V block): W = N Kb on a K block, U = N (beta V) on a V block."""
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_blk = tl.program_id(2)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    base = (i_b * T + i_c * C) * H + i_h
    rows = tl.arange(0, C)
    cols = tl.arange(0, C)
    valid = (i_c * C + rows) < T
    mk = valid[:, None]
    tok = rows * H
    lower = rows[:, None] >= cols[None, :]
    Nm = tl.load(N_buf + base * C + tok[:, None] * C + cols[None, :], mask=mk & lower, other=0.0)
    Nc = _cast(Nm.to(tl.float32), DT)
    if i_blk < K // BK:
        ck = i_blk * BK + tl.arange(0, BK)
        off_k = base * K + tok[:, None] * K + ck[None, :]
        kb = tl.load(Kb_buf + off_k, mask=mk, other=0.0).to(tl.float32)
        W = tl.dot(Nc, _cast(kb, DT))  # [C, BK]
        tl.store(W_buf + off_k, W.to(W_buf.dtype.element_ty), mask=mk)
    else:
        cv = (i_blk - K // BK) * BV + tl.arange(0, BV)
        off_v = base * V + tok[:, None] * V + cv[None, :]
        b = tl.load(beta + base + tok, mask=valid, other=0.0).to(tl.float32)  # [C]
        vv = tl.load(v + off_v, mask=mk, other=0.0).to(tl.float32)
        U = tl.dot(Nc, _cast(vv * b[:, None], DT))  # [C, BV]
        tl.store(U_buf + off_v, U.to(U_buf.dtype.element_ty), mask=mk)


@triton.jit
def _inter_fwd_kernel(
    W_buf, U_buf, Qg_buf, Kd_buf, gC_buf, Aqk_buf,
    h0, o, ht, h_buf, Vn_buf,
    T, H, NT,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, BV: tl.constexpr, DT: tl.constexpr,
    HAS_H0: tl.constexpr, STORE_HT: tl.constexpr, STORE_H: tl.constexpr,
):  # fmt: skip
    """Sequential over chunks per (sequence, head, V block): Vnew, the output and the state;
    with STORE_H the states entering each chunk and Vnew are kept for the backward."""
    i_v = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    rows = tl.arange(0, C)
    ck = tl.arange(0, K)
    cv = i_v * BV + tl.arange(0, BV)
    off_s = (i_b * H + i_h) * K * V + ck[:, None] * V + cv[None, :]  # [K, BV]
    if HAS_H0:
        S = tl.load(h0 + off_s)
    else:
        S = tl.zeros([K, BV], dtype=tl.float32)
    lower = rows[:, None] >= rows[None, :]
    for i_c in range(NT):
        t = i_c * C + rows
        valid = t < T
        mk = valid[:, None]
        tok = (i_b * T + t) * H + i_h
        if STORE_H:
            off_h = ((i_b * NT + i_c) * H + i_h) * K * V + ck[:, None] * V + cv[None, :]
            tl.store(h_buf + off_h, S.to(h_buf.dtype.element_ty))
        Sc = _cast(S, DT)
        W = tl.load(W_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        U = tl.load(U_buf + tok[:, None] * V + cv[None, :], mask=mk, other=0.0).to(tl.float32)
        Vn = U - tl.dot(W, Sc)  # [C, BV]
        if STORE_H:
            tl.store(Vn_buf + tok[:, None] * V + cv[None, :], Vn.to(Vn_buf.dtype.element_ty), mask=mk)  # fmt: skip
        Vc = _cast(Vn, DT)
        Qg = tl.load(Qg_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        Aqk = tl.load(Aqk_buf + tok[:, None] * C + rows[None, :], mask=mk & lower, other=0.0)
        out = tl.dot(Qg, Sc) + tl.dot(_cast(Aqk, DT), Vc)  # [C, BV]
        tl.store(o + tok[:, None] * V + cv[None, :], out.to(o.dtype.element_ty), mask=mk)
        Kd = tl.load(Kd_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        gC = tl.load(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck)  # [K]
        S = S * tl.exp(gC)[:, None] + tl.dot(tl.trans(Kd), Vc)
    if STORE_HT:
        tl.store(ht + off_s, S)


@triton.jit
def _inter_bwd_kernel(
    do, W_buf, Qg_buf, Kd_buf, gC_buf, Aqk_buf,
    dht, dh_buf, dVn_buf, dh0,
    T, H, NT,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, BV: tl.constexpr, DT: tl.constexpr,
    HAS_DHT: tl.constexpr, STORE_DH0: tl.constexpr,
):  # fmt: skip
    i_v = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    rows = tl.arange(0, C)
    ck = tl.arange(0, K)
    cv = i_v * BV + tl.arange(0, BV)
    off_s = (i_b * H + i_h) * K * V + ck[:, None] * V + cv[None, :]  # [K, BV]
    if HAS_DHT:
        dS = tl.load(dht + off_s)
    else:
        dS = tl.zeros([K, BV], dtype=tl.float32)
    lower = rows[:, None] >= rows[None, :]
    for i in range(NT):
        i_c = NT - 1 - i
        t = i_c * C + rows
        mk = (t < T)[:, None]
        tok = (i_b * T + t) * H + i_h
        # gradient w.r.t. the state leaving chunk i_c
        tl.store(dh_buf + ((i_b * NT + i_c) * H + i_h) * K * V + ck[:, None] * V + cv[None, :], dS)
        dO = tl.load(do + tok[:, None] * V + cv[None, :], mask=mk, other=0.0)
        dOc = _cast(dO.to(tl.float32), DT)
        # fp32 Aqk (saved so): a bf16 one here made Triton 3.6 address shared memory out
        # of range in this dot (compute-sanitizer, H200), also when loaded transposed.
        Aqk = tl.load(Aqk_buf + tok[:, None] * C + rows[None, :], mask=mk & lower, other=0.0)
        Kd = tl.load(Kd_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        dVn = tl.dot(tl.trans(_cast(Aqk, DT)), dOc) + tl.dot(Kd, _cast(dS, DT))  # [C, BV]
        tl.store(dVn_buf + tok[:, None] * V + cv[None, :], dVn, mask=mk)
        Qg = tl.load(Qg_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        W = tl.load(W_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        gC = tl.load(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck)  # [K]
        dS = (
            dS * tl.exp(gC)[:, None]
            + tl.dot(tl.trans(Qg), dOc)
            - tl.dot(tl.trans(W), _cast(dVn, DT))
        )
    if STORE_DH0:
        tl.store(dh0 + off_s, dS)


@triton.jit
def _bwd_wkd_kernel(
    q, k, beta, G_buf, gC_buf, N_buf, h_buf, dh_buf, Vn_buf, dVn_buf, do,
    dq, dk, dg, dN_buf, db_buf,  # fp32 outputs: partial dq/dk/dg, per-K-block dN and dbeta
    scale, T, H, NT, BHT,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
):  # fmt: skip
    """Per (K block, chunk): the state-side gradients dQg, dKd, dW over V, then through
    W = N (beta * exp(G) * K): the non-pairwise parts of dq, dk, dG, and this K block's share
    of dN and dbeta."""
    i_k = tl.program_id(0)
    i_c = tl.program_id(1)
    i_bh = tl.program_id(2)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    rows = tl.arange(0, C)
    cols = tl.arange(0, C)
    ck = i_k * BK + tl.arange(0, BK)
    t = i_c * C + rows
    valid = t < T
    mk = valid[:, None]
    base = (i_b * T + i_c * C) * H + i_h
    q += base * K
    k += base * K
    G_buf += base * K
    dq += base * K
    dk += base * K
    dg += base * K
    Vn_buf += base * V
    dVn_buf += base * V
    do += base * V
    beta += base
    N_buf += base * C
    dN_buf += (i_k * BHT + base) * C
    db_buf += i_k * BHT + base
    tok = rows * H
    off_k = tok[:, None] * K + ck[None, :]

    dQg = tl.zeros([C, BK], dtype=tl.float32)
    dKd = tl.zeros([C, BK], dtype=tl.float32)
    dW = tl.zeros([C, BK], dtype=tl.float32)
    dGl = tl.zeros([BK], dtype=tl.float32)
    off_h = ((i_b * NT + i_c) * H + i_h) * K * V
    for iv in range(V // BV):
        cv = iv * BV + tl.arange(0, BV)
        off_hs = off_h + ck[:, None] * V + cv[None, :]
        S = tl.load(h_buf + off_hs).to(tl.float32)  # [BK, BV] state entering the chunk
        dS = tl.load(dh_buf + off_hs)  # [BK, BV] gradient of the state leaving it
        off_v = tok[:, None] * V + cv[None, :]
        dO = tl.load(do + off_v, mask=mk, other=0.0).to(tl.float32)  # [C, BV]
        Vn = tl.load(Vn_buf + off_v, mask=mk, other=0.0).to(tl.float32)
        dVn = tl.load(dVn_buf + off_v, mask=mk, other=0.0)
        dQg += tl.dot(dO, tl.trans(S))
        dKd += tl.dot(Vn, tl.trans(dS))
        dW -= tl.dot(dVn, tl.trans(S))
        dGl += tl.sum(S * dS, axis=1)

    G_last = tl.load(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck)  # [BK]
    G = tl.load(G_buf + off_k, mask=mk, other=0.0)
    G = tl.where(mk, G, G_last[None, :])
    kk = tl.load(k + off_k, mask=mk, other=0.0).to(tl.float32)
    qq = tl.load(q + off_k, mask=mk, other=0.0).to(tl.float32) * scale
    b = tl.load(beta + tok, mask=valid, other=0.0).to(tl.float32)
    Nm = tl.load(
        N_buf + tok[:, None] * C + cols[None, :],
        mask=mk & (rows[:, None] >= cols[None, :]),
        other=0.0,
    )
    eG = tl.exp(G)
    Kg = kk * eG
    NTdW = tl.dot(tl.trans(Nm), dW)  # [C, BK] = d(beta * Kg)
    dKg = NTdW * b[:, None]
    tl.store(db_buf + tok, tl.sum(Kg * NTdW, axis=1), mask=valid)
    dN = tl.dot(dW, tl.trans(Kg * b[:, None]))  # [C, C]
    tl.store(dN_buf + tok[:, None] * C + cols[None, :], dN, mask=mk)
    eGd = tl.exp(G_last[None, :] - G)
    KddKd = kk * eGd * dKd
    dG = kk * eG * dKg + qq * eG * dQg - KddKd
    dG_last = dGl * tl.exp(G_last) + tl.sum(KddKd, axis=0)  # [BK]
    last = tl.minimum(C - 1, T - 1 - i_c * C)  # last valid row takes the G_C gradient
    dG = dG + tl.where(rows[:, None] == last, dG_last[None, :], 0.0)
    tl.store(dq + off_k, eG * dQg, mask=mk)
    tl.store(dk + off_k, eG * dKg + eGd * dKd, mask=mk)
    tl.store(dg + off_k, dG, mask=mk)


@triton.jit(do_not_specialize=["BHT"])  # BHT = 1 (one token) must stay a tensor: .to below
def _bwd_vA_kernel(
    v, beta, Akk_buf, N_buf, Vn_buf, dVn_buf, do, dN_buf, db_buf,
    dv, dbeta, dA_buf, dAqk_buf,  # fp32 outputs
    T, H, BHT,
    V: tl.constexpr, C: tl.constexpr, BV: tl.constexpr, NKB: tl.constexpr,
):  # fmt: skip
    """Per chunk: dv, dAqk = dO Vn^T, and dA (gradient of Akk~) through the solve; dbeta."""
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    rows = tl.arange(0, C)
    cols = tl.arange(0, C)
    t = i_c * C + rows
    valid = t < T
    mk = valid[:, None]
    base = (i_b * T + i_c * C) * H + i_h
    v += base * V
    Vn_buf += base * V
    dVn_buf += base * V
    do += base * V
    dv += base * V
    beta += base
    dbeta += base
    db_buf += base
    Akk_buf += base * C
    N_buf += base * C
    dN_buf += base * C
    dA_buf += base * C
    dAqk_buf += base * C
    tok = rows * H
    off_c = tok[:, None] * C + cols[None, :]
    strict = rows[:, None] > cols[None, :]
    lower = rows[:, None] >= cols[None, :]
    b = tl.load(beta + tok, mask=valid, other=0.0).to(tl.float32)
    Nm = tl.load(N_buf + off_c, mask=mk & lower, other=0.0)  # [C, C]

    dAqk = tl.zeros([C, C], dtype=tl.float32)
    dN = tl.zeros([C, C], dtype=tl.float32)
    db = tl.zeros([C], dtype=tl.float32)
    for iv in range(V // BV):
        cv = iv * BV + tl.arange(0, BV)
        off_v = tok[:, None] * V + cv[None, :]
        dO = tl.load(do + off_v, mask=mk, other=0.0).to(tl.float32)  # [C, BV]
        Vn = tl.load(Vn_buf + off_v, mask=mk, other=0.0).to(tl.float32)
        dVn = tl.load(dVn_buf + off_v, mask=mk, other=0.0)
        vv = tl.load(v + off_v, mask=mk, other=0.0).to(tl.float32)
        dAqk += tl.dot(dO, tl.trans(Vn))
        dN += tl.dot(dVn, tl.trans(vv * b[:, None]))
        NTdU = tl.dot(tl.trans(Nm), dVn)  # [C, BV] = d(beta * V)
        tl.store(dv + off_v, NTdU * b[:, None], mask=mk)
        db += tl.sum(vv * NTdU, axis=1)
    for i_k in tl.static_range(NKB):
        dN += tl.load(dN_buf + (i_k * BHT).to(tl.int64) * C + off_c, mask=mk, other=0.0)
        db += tl.load(db_buf + i_k * BHT + tok, mask=valid, other=0.0)
    dL = -tl.dot(tl.dot(tl.trans(Nm), dN), tl.trans(Nm))
    dL = tl.where(strict, dL, 0.0)
    Akk = tl.load(Akk_buf + off_c, mask=mk & strict, other=0.0)
    db += tl.sum(dL * Akk, axis=1)
    tl.store(dbeta + tok, db, mask=valid)
    tl.store(dA_buf + off_c, dL * b[:, None], mask=mk)
    tl.store(dAqk_buf + off_c, tl.where(lower, dAqk, 0.0), mask=mk)


@triton.jit
def _pair_bwd(dAb, dQb, kJ, GJ, R, kr, qr, HALF: tl.constexpr):
    """Block (I, J < I) of the pairwise gradients around row block I's reference R:
    row side (before its factor exp(G_i - R)) sum_j dP_ij k_j exp(R - G_j) for Akk~ and
    Aqk, and the column side exp(R - G_j) sum_i (dA_ij kr_i + dQ_ij qr_i)."""
    ec = tl.exp(tl.minimum(R[None, :] - GJ, HALF))
    kc = kJ * ec
    zc = tl.dot(tl.trans(dAb), kr) + tl.dot(tl.trans(dQb), qr)
    return tl.dot(dAb, kc), tl.dot(dQb, kc), ec * zc


@triton.jit
def _diag_bwd(dAd, dQd, kI, qI, GI, R, fast, er, r16, HALF: tl.constexpr):
    """Diagonal block: row-side gradients (factors applied) and the column side, as dots
    around the middle row when `fast`, else exactly, column by column."""
    if fast:
        yk, yq, z = _pair_bwd(dAd, dQd, kI, GI, R, kI * er, qI * er, HALF)
        yk = yk * er
        yq = yq * er
    else:
        yk = tl.zeros_like(kI)
        yq = tl.zeros_like(kI)
        z = tl.zeros_like(kI)
        for jj in range(r16.shape[0]):
            kj = _row(kI, r16, jj)
            Gj = _row(GI, r16, jj)
            e = tl.exp(tl.minimum(GI - Gj[None, :], 0.0))  # exp(G_i - G_j), exact for i >= j
            a_col = tl.sum(tl.where(r16[None, :] == jj, dAd, 0.0), axis=1)  # dA_ij, i > j
            q_col = tl.sum(tl.where(r16[None, :] == jj, dQd, 0.0), axis=1)  # dAqk_ij, i >= j
            yk += a_col[:, None] * kj[None, :] * e
            yq += q_col[:, None] * kj[None, :] * e
            zj = tl.sum((a_col[:, None] * kI + q_col[:, None] * qI) * e, axis=0)
            z += tl.where(r16[:, None] == jj, zj[None, :], 0.0)
    return yk, yq, z


@triton.jit
def _pair_final(dq, dk, dg, off, mask, kI, qI, yk, yq, z, suffix, scale):
    """Add a row block's pairwise gradients to the partial dq, dk, dG, store dq, dk and
    dg = reverse cumsum of dG (plus the later blocks' total); returns the new total."""
    m = mask[:, None]
    dqI = tl.load(dq + off, mask=m, other=0.0) + yq
    dkI = tl.load(dk + off, mask=m, other=0.0) + yk + z
    dGI = tl.load(dg + off, mask=m, other=0.0) + kI * (yk - z) + qI * yq
    tl.store(dq + off, dqI * scale, mask=m)
    tl.store(dk + off, dkI, mask=m)
    tl.store(dg + off, tl.cumsum(dGI, axis=0, reverse=True) + suffix[None, :], mask=m)
    return suffix + tl.sum(dGI, axis=0)


@triton.jit
def _pair_rows(q, k, G_buf, G_last, row0, r16, mask, H, K: tl.constexpr, ck, scale):
    """A row block's k, scaled q and G (G_C on the padded tail) as [SB, BK] fp32 tiles."""
    kI = _tile(k, row0, r16, mask, H, K, ck)
    qI = _tile(q, row0, r16, mask, H, K, ck) * scale
    GI = tl.where(mask[:, None], _tile(G_buf, row0, r16, mask, H, K, ck), G_last[None, :])
    return kI, qI, GI


@triton.jit
def _bwd_pair_kernel(
    q, k, G_buf, gC_buf, dA_buf, dAqk_buf,
    dq, dk, dg,  # fp32: partial sums in, final gradients out
    scale, T, H, NT,
    K: tl.constexpr, C: tl.constexpr, SB: tl.constexpr, BK: tl.constexpr,
    LIMIT: tl.constexpr, HALF: tl.constexpr,
):  # fmt: skip
    """Per (K block, chunk): gradients of the pairwise forms Akk~ (a = b = k) and Aqk
    (a = q, b = k), P_ij = sum_d a_id b_jd exp(G_id - G_jd), in 16x16 blocks around the
    forward's references (fast blocks: the middle row; steep ones: G entering the block,
    diagonal block exact):
      row side  da_i = exp(G_i - R) sum_j dP_ij (b_j exp(R - G_j))
      col side  db_j = exp(R - G_j) sum_i dP_ij (a_i exp(G_i - R))
    Row blocks run last to first, so each block is final when reached and dg is its
    reverse cumsum plus the later blocks' total."""
    tl.static_assert(C == 4 * SB)
    i_k = tl.program_id(0)
    i_c = tl.program_id(1)
    i_bh = tl.program_id(2)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    base = (i_b * T + i_c * C) * H + i_h
    q += base * K
    k += base * K
    G_buf += base * K
    dq += base * K
    dk += base * K
    dg += base * K
    dA_buf += base * C
    dAqk_buf += base * C
    r16 = tl.arange(0, SB)
    c16 = tl.arange(0, SB)
    ck = i_k * BK + tl.arange(0, BK)
    t0 = i_c * C
    m0 = (t0 + r16) < T
    m1 = (t0 + SB + r16) < T
    m2 = (t0 + 2 * SB + r16) < T
    m3 = (t0 + 3 * SB + r16) < T
    G_last = tl.load(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck)  # [BK]
    k0, q0, G0 = _pair_rows(q, k, G_buf, G_last, 0, r16, m0, H, K, ck, scale)
    k1, q1, G1 = _pair_rows(q, k, G_buf, G_last, SB, r16, m1, H, K, ck, scale)
    k2, q2, G2 = _pair_rows(q, k, G_buf, G_last, 2 * SB, r16, m2, H, K, ck, scale)
    k3, q3, G3 = _pair_rows(q, k, G_buf, G_last, 3 * SB, r16, m3, H, K, ck, scale)
    c1 = _row(G0, r16, SB - 1)  # G entering each block
    c2 = _row(G1, r16, SB - 1)
    c3 = _row(G2, r16, SB - 1)
    suffix = tl.zeros([BK], dtype=tl.float32)

    # row block 3 (the four blocks are written out: Triton keeps register tiles only as
    # named values, no lists of tiles)
    f, R = _ref(c3, _row(G3, r16, SB - 1) - c3, LIMIT)
    er = tl.exp(tl.minimum(G3 - R[None, :], HALF))
    kr = k3 * er
    qr = q3 * er
    yk, yq, z0 = _pair_bwd(_blk(dA_buf, 3 * SB, 0, r16, c16, m3, H, C), _blk(dAqk_buf, 3 * SB, 0, r16, c16, m3, H, C), k0, G0, R, kr, qr, HALF)  # fmt: skip
    a, b, z1 = _pair_bwd(_blk(dA_buf, 3 * SB, SB, r16, c16, m3, H, C), _blk(dAqk_buf, 3 * SB, SB, r16, c16, m3, H, C), k1, G1, R, kr, qr, HALF)  # fmt: skip
    yk += a
    yq += b
    a, b, z2 = _pair_bwd(_blk(dA_buf, 3 * SB, 2 * SB, r16, c16, m3, H, C), _blk(dAqk_buf, 3 * SB, 2 * SB, r16, c16, m3, H, C), k2, G2, R, kr, qr, HALF)  # fmt: skip
    yk = (yk + a) * er
    yq = (yq + b) * er
    a, b, z = _diag_bwd(_blk(dA_buf, 3 * SB, 3 * SB, r16, c16, m3, H, C), _blk(dAqk_buf, 3 * SB, 3 * SB, r16, c16, m3, H, C), k3, q3, G3, R, f, er, r16, HALF)  # fmt: skip
    off = ((3 * SB + r16) * H)[:, None] * K + ck[None, :]
    suffix = _pair_final(dq, dk, dg, off, m3, k3, q3, yk + a, yq + b, z, suffix, scale)

    # row block 2
    f, R = _ref(c2, c3 - c2, LIMIT)
    er = tl.exp(tl.minimum(G2 - R[None, :], HALF))
    kr = k2 * er
    qr = q2 * er
    yk, yq, z = _pair_bwd(_blk(dA_buf, 2 * SB, 0, r16, c16, m2, H, C), _blk(dAqk_buf, 2 * SB, 0, r16, c16, m2, H, C), k0, G0, R, kr, qr, HALF)  # fmt: skip
    z0 += z
    a, b, z = _pair_bwd(_blk(dA_buf, 2 * SB, SB, r16, c16, m2, H, C), _blk(dAqk_buf, 2 * SB, SB, r16, c16, m2, H, C), k1, G1, R, kr, qr, HALF)  # fmt: skip
    z1 += z
    yk = (yk + a) * er
    yq = (yq + b) * er
    a, b, z = _diag_bwd(_blk(dA_buf, 2 * SB, 2 * SB, r16, c16, m2, H, C), _blk(dAqk_buf, 2 * SB, 2 * SB, r16, c16, m2, H, C), k2, q2, G2, R, f, er, r16, HALF)  # fmt: skip
    off = ((2 * SB + r16) * H)[:, None] * K + ck[None, :]
    suffix = _pair_final(dq, dk, dg, off, m2, k2, q2, yk + a, yq + b, z2 + z, suffix, scale)

    # row block 1
    f, R = _ref(c1, c2 - c1, LIMIT)
    er = tl.exp(tl.minimum(G1 - R[None, :], HALF))
    kr = k1 * er
    qr = q1 * er
    yk, yq, z = _pair_bwd(_blk(dA_buf, SB, 0, r16, c16, m1, H, C), _blk(dAqk_buf, SB, 0, r16, c16, m1, H, C), k0, G0, R, kr, qr, HALF)  # fmt: skip
    z0 += z
    yk = yk * er
    yq = yq * er
    a, b, z = _diag_bwd(_blk(dA_buf, SB, SB, r16, c16, m1, H, C), _blk(dAqk_buf, SB, SB, r16, c16, m1, H, C), k1, q1, G1, R, f, er, r16, HALF)  # fmt: skip
    off = ((SB + r16) * H)[:, None] * K + ck[None, :]
    suffix = _pair_final(dq, dk, dg, off, m1, k1, q1, yk + a, yq + b, z1 + z, suffix, scale)

    # row block 0
    f, R = _ref(tl.zeros_like(c1), c1, LIMIT)
    er = tl.exp(tl.minimum(G0 - R[None, :], HALF))
    a, b, z = _diag_bwd(_blk(dA_buf, 0, 0, r16, c16, m0, H, C), _blk(dAqk_buf, 0, 0, r16, c16, m0, H, C), k0, q0, G0, R, f, er, r16, HALF)  # fmt: skip
    off = (r16 * H)[:, None] * K + ck[None, :]
    _pair_final(dq, dk, dg, off, m0, k0, q0, a, b, z0 + z, suffix, scale)


def _dot_code(dtype: torch.dtype) -> int:
    return {torch.bfloat16: 1, torch.float16: 2}.get(dtype, 0)


def _warps(K: int, V: int) -> int:
    """Warps of the chunk-parallel kernels: 8 keeps their [64, 64] fp32 tiles out of local
    memory at K = V = 128 (ptxas for sm_90: no spills at 8, several hundred bytes at 4)."""
    return 8 if max(K, V) >= 128 else 4


_STAGES: dict[tuple, int] = {}  # (kernel, shape key) -> pipeline stages that fit


def _fitting(kernel, grid: tuple, stages: int, key: tuple):
    """`kernel[grid]` launched with `stages` pipeline stages (3: triton's default), or with
    fewer where the chip's shared memory cannot hold that many (wide heads, K or V of 128:
    3 stages of the inter kernels need up to 384 KB on an H200's 227 KB); the stages that
    fit are remembered."""

    def launch(*args, **kw):
        k = (kernel.fn.__name__, *key)
        for s in range(_STAGES.get(k, stages), 0, -1):
            try:
                out = kernel[grid](*args, num_stages=s, **kw)
            except triton.runtime.errors.OutOfResources:
                if s == 1:
                    raise
                continue
            _STAGES[k] = s
            return out

    return launch


def _bv(V: int, parallel: int, fixed: int) -> int:
    """V block of a sequential pass: `fixed`, or by default split V further when there are
    few (sequence, head)s."""
    if fixed:
        return min(V, fixed)
    if parallel * (V // 64) >= 128:  # about one wave of the H200's 132 SMs with 64
        return min(V, 64)
    return min(V, 32)


GRID_LIMIT = 65535  # CUDA's limit on the second and third grid dimensions


def _check(q: torch.Tensor, v: torch.Tensor) -> None:
    B, T, H, K = q.shape
    V = v.shape[-1]
    for name, d in (("K", K), ("V", V)):
        if d < 16 or d & (d - 1):
            raise ValueError(f"chunk_kda needs {name} a power of two >= 16, got {d}")
    # The kernels put sequences x heads and (in the backward) the chunks on grid axes 1-2.
    if B * H > GRID_LIMIT:
        raise ValueError(f"chunk_kda takes at most {GRID_LIMIT} sequences x heads, got {B * H}")
    if triton.cdiv(T, CHUNK) > GRID_LIMIT:
        raise ValueError(f"chunk_kda takes at most {GRID_LIMIT * CHUNK} tokens, got T = {T}")


def _chunk_fwd(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    scale: float,
    h0: torch.Tensor | None,
    output_final_state: bool,
    save_for_bwd: bool,
) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, torch.Tensor]]:
    """Forward; returns o [B, T, H, V], final state [B, H, K, V] or None, saved buffers."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    C = CHUNK
    NT = triton.cdiv(T, C)
    dev, dt = q.device, q.dtype
    f32 = torch.float32
    G = torch.empty(B, T, H, K, device=dev, dtype=f32) if save_for_bwd else q
    # Saved for the backward in fp32 (see _inter_bwd_kernel); the forward reads it in dtype.
    Aqk = torch.empty(B, T, H, C, device=dev, dtype=f32 if save_for_bwd else dt)
    Akk = torch.empty(B, T, H, C, device=dev, dtype=f32)  # scratch of the solve unless saved
    # The backward reads N in fp32; the forward's W and U dots only in dtype.
    Nm = torch.empty(B, T, H, C, device=dev, dtype=f32 if save_for_bwd else dt)
    Qg = torch.empty(B, T, H, K, device=dev, dtype=dt)
    Kd = torch.empty(B, T, H, K, device=dev, dtype=dt)
    Kb = torch.empty(B, T, H, K, device=dev, dtype=dt)
    gC = torch.empty(B, NT, H, K, device=dev, dtype=f32)
    DT = _dot_code(dt)
    _intra_fwd_kernel[(NT, B * H)](
        q, k, g, beta, G, Akk, Aqk, Qg, Kd, Kb, gC,
        scale, T, H, NT,
        K=K, C=C, SB=SUB, BK=min(K, INTRA_BK),
        PDT=0 if DT == 2 else DT,  # fp16 cannot hold the factors exp(+-40): tf32 operands
        SAVE=save_for_bwd, LIMIT=FAST_DROP_LIMIT, HALF=max(FAST_DROP_LIMIT / 2, 0.0),
        num_warps=INTRA_WARPS, num_stages=INTRA_STAGES, maxnreg=INTRA_MAXNREG or None,
    )  # fmt: skip
    _solve_kernel[(NT, B * H)](
        Akk, beta, Nm, T, H, C=C, SB=SUB, PREC=SOLVE_PRECISION, num_warps=SOLVE_WARPS
    )
    W = torch.empty(B, T, H, K, device=dev, dtype=dt)
    U = torch.empty(B, T, H, V, device=dev, dtype=dt)
    BK, BV = min(K, WU_BLOCK), min(V, WU_BLOCK)
    _fitting(_wu_fwd_kernel, (NT, B * H, K // BK + V // BV), 3, (K, V, DT))(
        Kb, v, beta, Nm, W, U,
        T, H,
        K=K, V=V, C=C, BK=BK, BV=BV, DT=DT, num_warps=WU_WARPS,
    )  # fmt: skip
    o = torch.empty(B, T, H, V, device=dev, dtype=v.dtype)
    ht = torch.empty(B, H, K, V, device=dev, dtype=f32) if output_final_state else o
    h = torch.empty(B, NT, H, K, V, device=dev, dtype=f32) if save_for_bwd else o
    Vn = torch.empty(B, T, H, V, device=dev, dtype=f32) if save_for_bwd else o
    BV = _bv(V, B * H, INTER_BV)
    _fitting(_inter_fwd_kernel, (V // BV, B * H), INTER_STAGES, (K, V, BV, DT))(
        W, U, Qg, Kd, gC, Aqk,
        h0 if h0 is not None else o, o, ht, h, Vn,
        T, H, NT,
        K=K, V=V, C=C, BV=BV, DT=DT,
        HAS_H0=h0 is not None, STORE_HT=output_final_state, STORE_H=save_for_bwd,
        num_warps=INTER_WARPS,
    )  # fmt: skip
    saved = dict(G=G, Akk=Akk, Aqk=Aqk, N=Nm, W=W, Qg=Qg, Kd=Kd, gC=gC, h=h, Vn=Vn)
    return o, (ht if output_final_state else None), saved


def _chunk_bwd(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    beta: torch.Tensor,
    scale: float,
    saved: dict[str, torch.Tensor],
    do: torch.Tensor,
    dht: torch.Tensor | None,
    need_dh0: bool,
) -> tuple[torch.Tensor, ...]:
    """Backward; returns fp32 dq, dk, dv, dg, dbeta and dh0 (or None)."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    C = CHUNK
    NT = triton.cdiv(T, C)
    dev = q.device
    f32 = torch.float32
    DT = _dot_code(q.dtype)
    dh = torch.empty(B, NT, H, K, V, device=dev, dtype=f32)
    dVn = torch.empty(B, T, H, V, device=dev, dtype=f32)
    dh0 = torch.empty(B, H, K, V, device=dev, dtype=f32) if need_dh0 else dVn
    BV = _bv(V, B * H, INTER_BWD_BV)
    _fitting(_inter_bwd_kernel, (V // BV, B * H), INTER_BWD_STAGES, (K, V, BV, DT))(
        do, saved["W"], saved["Qg"], saved["Kd"], saved["gC"], saved["Aqk"],
        dht if dht is not None else dVn, dh, dVn, dh0,
        T, H, NT,
        K=K, V=V, C=C, BV=BV, DT=DT, HAS_DHT=dht is not None, STORE_DH0=need_dh0,
        num_warps=4,
    )  # fmt: skip
    dq = torch.empty(B, T, H, K, device=dev, dtype=f32)
    dk = torch.empty_like(dq)
    dg = torch.empty_like(dq)
    dv = torch.empty(B, T, H, V, device=dev, dtype=f32)
    dbeta = torch.empty(B, T, H, device=dev, dtype=f32)
    BK = min(K, 64)
    NKB = K // BK
    BHT = B * T * H
    dN = torch.empty(NKB, B, T, H, C, device=dev, dtype=f32)  # per-K-block shares of dN
    dbk = torch.empty(NKB, B, T, H, device=dev, dtype=f32)  # per-K-block shares of dbeta
    _fitting(_bwd_wkd_kernel, (NKB, NT, B * H), 3, (K, V, DT))(
        q, k, beta, saved["G"], saved["gC"], saved["N"], saved["h"], dh, saved["Vn"], dVn, do,
        dq, dk, dg, dN, dbk,
        scale, T, H, NT, BHT,
        K=K, V=V, C=C, BK=BK, BV=min(V, 64),
        num_warps=_warps(K, V),
    )  # fmt: skip
    dA = torch.empty(B, T, H, C, device=dev, dtype=f32)
    dAqk = torch.empty_like(dA)
    _fitting(_bwd_vA_kernel, (NT, B * H), 3, (K, V, DT))(
        v, beta, saved["Akk"], saved["N"], saved["Vn"], dVn, do, dN, dbk,
        dv, dbeta, dA, dAqk,
        T, H, BHT,
        V=V, C=C, BV=min(V, 64), NKB=NKB,
        num_warps=_warps(K, V),
    )  # fmt: skip
    BKP = min(K, PAIR_BK)
    _fitting(_bwd_pair_kernel, (K // BKP, NT, B * H), 3, (K, DT))(
        q, k, saved["G"], saved["gC"], dA, dAqk,
        dq, dk, dg,
        scale, T, H, NT,
        K=K, C=C, SB=SUB, BK=BKP,
        LIMIT=FAST_DROP_LIMIT, HALF=max(FAST_DROP_LIMIT / 2, 0.0),
        num_warps=PAIR_WARPS,
    )  # fmt: skip
    return dq, dk, dv, dg, dbeta, (dh0 if need_dh0 else None)


class ChunkKDAFunction(torch.autograd.Function):
    """Autograd wrapper of the Triton chunk kernels (inputs already preprocessed)."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        g: torch.Tensor,
        beta: torch.Tensor,
        scale: float,
        initial_state: torch.Tensor | None,
        output_final_state: bool,
        save: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q, k, v, beta = (x.contiguous() for x in (q, k, v, beta))
        g32 = g.float().contiguous()
        h0 = initial_state.float().contiguous() if initial_state is not None else None
        o, ht, saved = _chunk_fwd(q, k, v, g32, beta, scale, h0, output_final_state, save)
        ctx.scale = scale
        ctx.has_h0 = initial_state is not None
        ctx.dtypes = (q.dtype, k.dtype, v.dtype, g.dtype, beta.dtype)
        ctx.saved_names = list(saved)
        ctx.save_for_backward(q, k, v, beta, *saved.values())
        return o, ht

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        do: torch.Tensor,
        dht: torch.Tensor | None,
    ) -> tuple[torch.Tensor | None, ...]:
        q, k, v, beta, *rest = ctx.saved_tensors
        saved = dict(zip(ctx.saved_names, rest))
        dq, dk, dv, dg, db, dh0 = _chunk_bwd(
            q, k, v, beta, ctx.scale, saved, do.contiguous(),
            dht.float().contiguous() if dht is not None else None, ctx.has_h0,
        )  # fmt: skip
        tq, tk, tv, tg, tb = ctx.dtypes
        return dq.to(tq), dk.to(tk), dv.to(tv), dg.to(tg), db.to(tb), None, dh0, None, None


def chunk_kda_core(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    scale: float,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Triton chunk KDA on preprocessed inputs (q unscaled; g fp32 log decay; beta in (0, 1)).

    q, k: [B, T, H, K]; v: [B, T, H, V]; g: [B, T, H, K]; beta: [B, T, H];
    initial_state: [B, H, K, V] fp32. Returns o [B, T, H, V] and the final state or None.
    Differentiable in q, k, v, g, beta and initial_state.
    """
    _check(q, v)
    # Keep the backward's buffers only when a gradient can be asked for: not under no_grad or
    # inference_mode (inside forward grad mode is always off, so decide here).
    save = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (q, k, v, g, beta, initial_state)
    )
    return ChunkKDAFunction.apply(q, k, v, g, beta, scale, initial_state, output_final_state, save)
