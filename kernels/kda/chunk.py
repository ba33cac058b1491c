"""Chunkwise KDA in Triton: forward and backward (chunk C = 64), fp32 state.

Forward, per (sequence, head):
  1. `_intra_fwd_kernel`, one program per chunk (parallel): G = cumsum(g) in fp32;
     Akk~ (unscaled by beta) and Aqk from pairwise decays; N = (I + Diag(beta) Akk~)^-1;
     W = N (beta * exp(G) * K), U = N (beta * V); also Qg = exp(G) * q * scale,
     Kd = exp(G_C - G) * K and G_C, the inputs of the sequential pass.
  2. `_inter_fwd_kernel`, one program per V block (sequential over chunks): the state S in
     registers; Vnew = U - W S; O = Qg S + Aqk Vnew; S <- exp(G_C) S + Kd^T Vnew.
Backward:
  3. `_inter_bwd_kernel` (sequential, reversed): dVnew = Aqk^T dO + Kd dS and the state
     gradient dS <- exp(G_C) dS + Qg^T dO - W^T dVnew, stored per chunk.
  4. `_bwd_wkd_kernel` (per K block of 64 and chunk): dQg, dKd, dW over V; through W: the
     non-pairwise parts of dq, dk, dG and this K block's share of dN and dbeta.
  5. `_bwd_vA_kernel` (per chunk): dv, dAqk, and dA = d Akk~ through the solve; dbeta.
  6. `_bwd_pair_kernel` (per K block of 32 and chunk): the pairwise-decay gradients in
     16-row blocks (off-diagonal ones as dots around a reference row, diagonal ones exactly),
     then dg = reverse cumsum of dG.

Numerics (KDA notes): gate, cumsum, state and the solve in fp32; only exponents <= 0 are
taken. Off-diagonal 16x16 blocks of the pairwise matrices factor around the first row n of
the later block: (a_i exp(G_i - G_n)) . (b_j exp(G_n - G_j)); the diagonal blocks are
summed element by element (in the backward as [16, 16, 32] tiles per diagonal block, no
[64, K] gathers). The triangular solve inverts the 16x16 diagonal blocks by
forward substitution and finishes with the nilpotent series of the block-lower rest.
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
INTRA_BK, INTRA_WARPS = 32, 4  # K block and warps of the intra-chunk forward kernel
PAIR_BK, PAIR_WARPS = 64, 8  # K block and warps of the pairwise-gradient kernel
SOLVE_PRECISION = "tf32x3"  # dots of the triangular solve (fp32 operands)


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
    """Row n of a [C, D] tile as a [D] vector."""
    return tl.sum(tl.where(rows[:, None] == n, x, 0.0), axis=0)


@triton.jit
def _intra_fwd_kernel(
    q, k, v, g, beta,  # inputs [B, T, H, K|V], beta [B, T, H]
    G_buf, Akk_buf, Aqk_buf, N_buf,  # fp32 [B, T, H, K], [B, T, H, C] x3
    W_buf, U_buf, Qg_buf, Kd_buf, gC_buf,  # [B, T, H, K|V] in dtype; gC fp32 [B, NT, H, K]
    scale, T, H, NT,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, SB: tl.constexpr,
    BK: tl.constexpr, BV: tl.constexpr, DT: tl.constexpr, SAVE: tl.constexpr,
    LIMIT: tl.constexpr, HALF: tl.constexpr, PREC: tl.constexpr,
):  # fmt: skip
    i_c = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    NB: tl.constexpr = C // SB
    rows = tl.arange(0, C)
    cols = tl.arange(0, C)
    t = i_c * C + rows  # [C]
    valid = t < T
    mk = valid[:, None]
    base = (i_b * T + i_c * C) * H + i_h
    q += base * K
    k += base * K
    g += base * K
    G_buf += base * K
    tok = rows * H  # [C] (token, head) offset inside the chunk
    off_c = tok[:, None] * C + cols[None, :]
    blk = rows // SB
    strict = rows[:, None] > cols[None, :]
    lower = rows[:, None] >= cols[None, :]

    # Akk~ and Aqk, summed over K blocks. Row block I against columns j <= its end as
    # tensor-core dots factored around a reference R_I: (a_i exp(G_i - R_I)) .
    # (k_j exp(R_I - G_j)). Where G falls by at most LIMIT inside the block (every channel
    # of the K block), R_I is the middle of the block, both factors stay within
    # exp(+-LIMIT/2) and the diagonal block is a dot too; otherwise R_I is the block's first
    # row (factors <= 1) for j < 16 I and the diagonal block is summed exactly below.
    Akk = tl.zeros([C, C], dtype=tl.float32)
    Aqk = tl.zeros([C, C], dtype=tl.float32)
    for i_k in range(K // BK):
        ck = i_k * BK + tl.arange(0, BK)
        off_k = tok[:, None] * K + ck[None, :]
        G = tl.cumsum(tl.load(g + off_k, mask=mk, other=0.0).to(tl.float32), axis=0)
        if SAVE:
            tl.store(G_buf + off_k, G, mask=mk)
        kk = tl.load(k + off_k, mask=mk, other=0.0).to(tl.float32)
        qq = tl.load(q + off_k, mask=mk, other=0.0).to(tl.float32) * scale
        slow_rows = rows < 0  # [C] rows whose diagonal block is summed exactly
        for ib in range(NB):
            Gf = _row(G, rows, ib * SB)
            Gl = _row(G, rows, ib * SB + SB - 1)
            fast = tl.max(Gf - Gl, axis=0) <= LIMIT
            R = tl.where(fast, (Gf + Gl) * 0.5, Gf)  # [BK]
            end = ib * SB + tl.where(fast, SB, 0)
            er = tl.exp(tl.minimum(G - R[None, :], HALF))  # exact on block I's rows
            kc = _cast(kk * tl.exp(tl.minimum(R[None, :] - G, HALF)), DT)  # exact, j < end
            region = (blk == ib)[:, None] & (cols < end)[None, :]
            Akk += tl.where(region & strict, tl.dot(_cast(kk * er, DT), tl.trans(kc)), 0.0)
            Aqk += tl.where(region & lower, tl.dot(_cast(qq * er, DT), tl.trans(kc)), 0.0)
            slow_rows = slow_rows | ((blk == ib) & (fast == 0))
        if tl.max(slow_rows.to(tl.int32), axis=0) > 0:
            # column j(i) = 16 (i // 16) + jj of each row i, gathered
            if not SAVE:
                tl.store(G_buf + off_k, G, mask=mk)
            tl.debug_barrier()  # G_buf written above is read back by other threads
            for jj in tl.static_range(SB):
                j = blk * SB + jj  # [C]
                mj = ((i_c * C + j) < T)[:, None]
                off_j = (j * H)[:, None] * K + ck[None, :]
                kj = tl.load(k + off_j, mask=mj, other=0.0).to(tl.float32)
                Gj = tl.load(G_buf + off_j, mask=mj, other=0.0)
                kje = kj * tl.exp(tl.minimum(G - Gj, 0.0))  # k_j exp(G_i - G_j), j <= i
                sel = (cols[None, :] == j[:, None]) & slow_rows[:, None]
                Akk += tl.where(sel & strict, tl.sum(kk * kje, axis=1)[:, None], 0.0)
                Aqk += tl.where(sel & lower, tl.sum(qq * kje, axis=1)[:, None], 0.0)
            tl.debug_barrier()  # the next K block overwrites G_buf

    tl.store(Aqk_buf + base * C + off_c, Aqk, mask=mk)
    if SAVE:
        tl.store(Akk_buf + base * C + off_c, Akk, mask=mk)

    # Solve N = (I + A)^-1, A = Diag(beta) Akk~ strictly lower, in fp32 (tf32x3 dots).
    # Diagonal 16x16 blocks: (I + A_D)^-1 = (I - A_D)(I + A_D^2)(I + A_D^4)(I + A_D^8),
    # exact as A_D^16 = 0; then the block-lower rest: N = (I - X + X^2 - X^3) D, X = D A_off.
    b = tl.load(beta + base + tok, mask=valid, other=0.0).to(tl.float32)  # [C]
    A = Akk * b[:, None]
    same_blk = blk[:, None] == (cols // SB)[None, :]
    A_D = tl.where(same_blk, A, 0.0)
    D = tl.where(rows[:, None] == cols[None, :], 1.0, 0.0) - A_D
    tl.static_assert(SB == 16)
    for _ in tl.static_range(3):  # A_D^2, A_D^4, A_D^8
        A_D = tl.dot(A_D, A_D, input_precision=PREC)
        D = D + tl.dot(D, A_D, input_precision=PREC)
    X = tl.dot(D, tl.where(same_blk, 0.0, A), input_precision=PREC)
    Nm = D
    for _ in tl.static_range(NB - 1):
        Nm = D - tl.dot(X, Nm, input_precision=PREC)
    Nm = tl.where(lower, Nm, 0.0)
    if SAVE:
        tl.store(N_buf + base * C + off_c, Nm, mask=mk)

    # W = N (beta exp(G) K), U = N (beta V); Qg = exp(G) q, Kd = exp(G_C - G) k, G_C.
    Nc = _cast(Nm, DT)
    for i_k in range(K // BK):
        ck = i_k * BK + tl.arange(0, BK)
        off_k = tok[:, None] * K + ck[None, :]
        G = tl.cumsum(tl.load(g + off_k, mask=mk, other=0.0).to(tl.float32), axis=0)
        G_last = _row(G, rows, C - 1)  # [BK]; g = 0 on the padded tail keeps G flat there
        tl.store(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck, G_last)
        eG = tl.exp(G)
        kk = tl.load(k + off_k, mask=mk, other=0.0).to(tl.float32)
        W = tl.dot(Nc, _cast(kk * eG * b[:, None], DT))  # [C, BK]
        tl.store(W_buf + base * K + off_k, W.to(W_buf.dtype.element_ty), mask=mk)
        Kd = kk * tl.exp(G_last[None, :] - G)
        tl.store(Kd_buf + base * K + off_k, Kd.to(Kd_buf.dtype.element_ty), mask=mk)
        qq = tl.load(q + off_k, mask=mk, other=0.0).to(tl.float32) * scale
        tl.store(Qg_buf + base * K + off_k, (qq * eG).to(Qg_buf.dtype.element_ty), mask=mk)
    for i_v in range(V // BV):
        cv = i_v * BV + tl.arange(0, BV)
        off_v = tok[:, None] * V + cv[None, :]
        vv = tl.load(v + base * V + off_v, mask=mk, other=0.0).to(tl.float32)
        U = tl.dot(Nc, _cast(vv * b[:, None], DT))  # [C, BV]
        tl.store(U_buf + base * V + off_v, U.to(U_buf.dtype.element_ty), mask=mk)


@triton.jit
def _inter_fwd_kernel(
    W_buf, U_buf, Qg_buf, Kd_buf, gC_buf, Aqk_buf,
    h0, o, ht, h_buf, Vn_buf,
    T, H, NT,
    K: tl.constexpr, V: tl.constexpr, C: tl.constexpr, BV: tl.constexpr, DT: tl.constexpr,
    HAS_H0: tl.constexpr, STORE_HT: tl.constexpr, STORE_H: tl.constexpr,
):  # fmt: skip
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
            tl.store(
                h_buf + ((i_b * NT + i_c) * H + i_h) * K * V + ck[:, None] * V + cv[None, :], S
            )
        Sc = _cast(S, DT)
        W = tl.load(W_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        U = tl.load(U_buf + tok[:, None] * V + cv[None, :], mask=mk, other=0.0).to(tl.float32)
        Vn = U - tl.dot(W, Sc)  # [C, BV]
        if STORE_H:
            tl.store(Vn_buf + tok[:, None] * V + cv[None, :], Vn, mask=mk)
        Qg = tl.load(Qg_buf + tok[:, None] * K + ck[None, :], mask=mk, other=0.0)
        Aqk = tl.load(Aqk_buf + tok[:, None] * C + rows[None, :], mask=mk & lower, other=0.0)
        Vc = _cast(Vn, DT)
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
        S = tl.load(h_buf + off_hs)  # [BK, BV] state entering the chunk
        dS = tl.load(dh_buf + off_hs)  # [BK, BV] gradient of the state leaving it
        off_v = tok[:, None] * V + cv[None, :]
        dO = tl.load(do + off_v, mask=mk, other=0.0).to(tl.float32)  # [C, BV]
        Vn = tl.load(Vn_buf + off_v, mask=mk, other=0.0)
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


@triton.jit
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
        Vn = tl.load(Vn_buf + off_v, mask=mk, other=0.0)
        dVn = tl.load(dVn_buf + off_v, mask=mk, other=0.0)
        vv = tl.load(v + off_v, mask=mk, other=0.0).to(tl.float32)
        dAqk += tl.dot(dO, tl.trans(Vn))
        dN += tl.dot(dVn, tl.trans(vv * b[:, None]))
        NTdU = tl.dot(tl.trans(Nm), dVn)  # [C, BV] = d(beta * V)
        tl.store(dv + off_v, NTdU * b[:, None], mask=mk)
        db += tl.sum(vv * NTdU, axis=1)
    for i_k in tl.static_range(NKB):
        dN += tl.load(dN_buf + i_k * BHT * C + off_c, mask=mk, other=0.0)
        db += tl.load(db_buf + i_k * BHT + tok, mask=valid, other=0.0)
    dL = -tl.dot(tl.dot(tl.trans(Nm), dN), tl.trans(Nm))
    dL = tl.where(strict, dL, 0.0)
    Akk = tl.load(Akk_buf + off_c, mask=mk & strict, other=0.0)
    db += tl.sum(dL * Akk, axis=1)
    tl.store(dbeta + tok, db, mask=valid)
    tl.store(dA_buf + off_c, dL * b[:, None], mask=mk)
    tl.store(dAqk_buf + off_c, tl.where(lower, dAqk, 0.0), mask=mk)


@triton.jit
def _bwd_pair_kernel(
    q, k, G_buf, gC_buf, dA_buf, dAqk_buf,
    dq, dk, dg,  # fp32: partial sums in, final gradients out
    scale, T, H, NT,
    K: tl.constexpr, C: tl.constexpr, SB: tl.constexpr, BK: tl.constexpr, DT: tl.constexpr,
    LIMIT: tl.constexpr, HALF: tl.constexpr,
):  # fmt: skip
    """Per (K block, chunk): gradients of the pairwise forms Akk~ (a = b = k) and Aqk
    (a = q, b = k), P_ij = sum_d a_id b_jd exp(G_id - G_jd), then dg = reverse cumsum of
    dG inside the chunk. Row block I against columns j <= its end as dots around the same
    reference R_I as the forward (middle row when the block's decay falls by <= LIMIT in
    this K block, else its first row, and the diagonal block summed exactly):
      row side  da_i = exp(G_i - R) * sum_j dP_ij (b_j exp(R - G_j))
      col side  db_j = exp(R - G_j) * sum_i dP_ij (a_i exp(G_i - R))"""
    i_k = tl.program_id(0)
    i_c = tl.program_id(1)
    i_bh = tl.program_id(2)
    i_b = (i_bh // H).to(tl.int64)
    i_h = i_bh % H
    NB: tl.constexpr = C // SB
    rows = tl.arange(0, C)
    cols = tl.arange(0, C)
    ck = i_k * BK + tl.arange(0, BK)
    t = i_c * C + rows
    valid = t < T
    mk = valid[:, None]
    blk = rows // SB
    base = (i_b * T + i_c * C) * H + i_h
    q += base * K
    k += base * K
    G_buf += base * K
    dq += base * K
    dk += base * K
    dg += base * K
    dA_buf += base * C
    dAqk_buf += base * C
    tok = rows * H
    off_k = tok[:, None] * K + ck[None, :]
    off_c = tok[:, None] * C + cols[None, :]
    G_last = tl.load(gC_buf + ((i_b * NT + i_c) * H + i_h) * K + ck)  # [BK]
    G = tl.load(G_buf + off_k, mask=mk, other=0.0)
    G = tl.where(mk, G, G_last[None, :])
    kk = tl.load(k + off_k, mask=mk, other=0.0).to(tl.float32)
    qq = tl.load(q + off_k, mask=mk, other=0.0).to(tl.float32) * scale
    dA = tl.load(dA_buf + off_c, mask=mk & (rows[:, None] > cols[None, :]), other=0.0)
    dQ = tl.load(dAqk_buf + off_c, mask=mk & (rows[:, None] >= cols[None, :]), other=0.0)

    Yk = tl.zeros([C, BK], dtype=tl.float32)  # row side of Akk~: d k_i
    Yq = tl.zeros([C, BK], dtype=tl.float32)  # row side of Aqk: d q_i
    Z = tl.zeros([C, BK], dtype=tl.float32)  # column side of both: d k_j
    for ib in range(NB):
        Gf = _row(G, rows, ib * SB)
        Gl = _row(G, rows, ib * SB + SB - 1)
        fast = tl.max(Gf - Gl, axis=0) <= LIMIT
        R = tl.where(fast, (Gf + Gl) * 0.5, Gf)  # [BK]
        end = ib * SB + tl.where(fast, SB, 0)
        er = tl.exp(tl.minimum(G - R[None, :], HALF))
        ec = tl.exp(tl.minimum(R[None, :] - G, HALF))
        region = (blk == ib)[:, None] & (cols < end)[None, :]
        dAI = _cast(tl.where(region, dA, 0.0), DT)
        dQI = _cast(tl.where(region, dQ, 0.0), DT)
        kc = _cast(kk * ec, DT)
        Yk += er * tl.dot(dAI, kc)
        Yq += er * tl.dot(dQI, kc)
        Z += ec * (
            tl.dot(tl.trans(dAI), _cast(kk * er, DT)) + tl.dot(tl.trans(dQI), _cast(qq * er, DT))
        )
        if fast == 0:
            # diagonal block of a steep block, column by column, exactly
            for jj in range(SB):
                j = ib * SB + jj
                kj = _row(kk, rows, j)
                Gj = _row(G, rows, j)
                e = tl.exp(tl.minimum(G - Gj[None, :], 0.0))  # exp(G_i - G_j), i >= j
                in_blk = blk == ib
                a_col = tl.sum(tl.where(cols[None, :] == j, dA, 0.0), axis=1)
                a_col = tl.where(in_blk & (rows > j), a_col, 0.0)  # [C] dA_ij
                q_col = tl.sum(tl.where(cols[None, :] == j, dQ, 0.0), axis=1)
                q_col = tl.where(in_blk & (rows >= j), q_col, 0.0)  # [C] dAqk_ij
                Yk += a_col[:, None] * kj[None, :] * e
                Yq += q_col[:, None] * kj[None, :] * e
                zj = tl.sum((a_col[:, None] * kk + q_col[:, None] * qq) * e, axis=0)  # [BK]
                Z += tl.where(rows[:, None] == j, zj[None, :], 0.0)

    dqI = tl.load(dq + off_k, mask=mk, other=0.0) + Yq
    dkI = tl.load(dk + off_k, mask=mk, other=0.0) + Yk + Z
    dG = tl.load(dg + off_k, mask=mk, other=0.0) + kk * (Yk - Z) + qq * Yq
    tl.store(dq + off_k, dqI * scale, mask=mk)
    tl.store(dk + off_k, dkI, mask=mk)
    tl.store(dg + off_k, tl.cumsum(dG, axis=0, reverse=True), mask=mk)


def _dot_code(dtype: torch.dtype) -> int:
    return {torch.bfloat16: 1, torch.float16: 2}.get(dtype, 0)


def _warps(K: int, V: int) -> int:
    """Warps of the chunk-parallel kernels: 8 keeps their [64, 64] fp32 tiles out of local
    memory at K = V = 128 (ptxas for sm_90: no spills at 8, several hundred bytes at 4)."""
    return 8 if max(K, V) >= 128 else 4


def _bv(V: int, parallel: int) -> int:
    """V block of the sequential passes: split V further when there are few (sequence, head)s."""
    if parallel * (V // 64) >= 264:
        return min(V, 64)
    return min(V, 32)


def _check(q: torch.Tensor, v: torch.Tensor) -> None:
    K, V = q.shape[-1], v.shape[-1]
    for name, d in (("K", K), ("V", V)):
        if d < 16 or d & (d - 1):
            raise ValueError(f"chunk_kda needs {name} a power of two >= 16, got {d}")


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
    G = torch.empty(B, T, H, K, device=dev, dtype=f32)
    Aqk = torch.empty(B, T, H, C, device=dev, dtype=f32)
    Akk = torch.empty_like(Aqk) if save_for_bwd else Aqk
    Nm = torch.empty_like(Aqk) if save_for_bwd else Aqk
    W = torch.empty(B, T, H, K, device=dev, dtype=dt)
    U = torch.empty(B, T, H, V, device=dev, dtype=dt)
    Qg = torch.empty(B, T, H, K, device=dev, dtype=dt)
    Kd = torch.empty(B, T, H, K, device=dev, dtype=dt)
    gC = torch.empty(B, NT, H, K, device=dev, dtype=f32)
    DT = _dot_code(dt)
    _intra_fwd_kernel[(NT, B * H)](
        q, k, v, g, beta, G, Akk, Aqk, Nm, W, U, Qg, Kd, gC,
        scale, T, H, NT,
        K=K, V=V, C=C, SB=SUB, BK=min(K, INTRA_BK), BV=min(V, INTRA_BK), DT=DT,
        SAVE=save_for_bwd, LIMIT=FAST_DROP_LIMIT, HALF=max(FAST_DROP_LIMIT / 2, 0.0),
        PREC=SOLVE_PRECISION, num_warps=INTRA_WARPS,
    )  # fmt: skip
    o = torch.empty(B, T, H, V, device=dev, dtype=v.dtype)
    ht = torch.empty(B, H, K, V, device=dev, dtype=f32) if output_final_state else o
    h = torch.empty(B, NT, H, K, V, device=dev, dtype=f32) if save_for_bwd else o
    Vn = torch.empty(B, T, H, V, device=dev, dtype=f32) if save_for_bwd else o
    BV = _bv(V, B * H)
    _inter_fwd_kernel[(V // BV, B * H)](
        W, U, Qg, Kd, gC, Aqk,
        h0 if h0 is not None else o, o, ht, h, Vn,
        T, H, NT,
        K=K, V=V, C=C, BV=BV, DT=DT,
        HAS_H0=h0 is not None, STORE_HT=output_final_state, STORE_H=save_for_bwd,
        num_warps=4,
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
    BV = _bv(V, B * H)
    _inter_bwd_kernel[(V // BV, B * H)](
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
    _bwd_wkd_kernel[(NKB, NT, B * H)](
        q, k, beta, saved["G"], saved["gC"], saved["N"], saved["h"], dh, saved["Vn"], dVn, do,
        dq, dk, dg, dN, dbk,
        scale, T, H, NT, BHT,
        K=K, V=V, C=C, BK=BK, BV=min(V, 64),
        num_warps=_warps(K, V),
    )  # fmt: skip
    dA = torch.empty(B, T, H, C, device=dev, dtype=f32)
    dAqk = torch.empty_like(dA)
    _bwd_vA_kernel[(NT, B * H)](
        v, beta, saved["Akk"], saved["N"], saved["Vn"], dVn, do, dN, dbk,
        dv, dbeta, dA, dAqk,
        T, H, BHT,
        V=V, C=C, BV=min(V, 64), NKB=NKB,
        num_warps=_warps(K, V),
    )  # fmt: skip
    BKP = min(K, PAIR_BK)
    _bwd_pair_kernel[(K // BKP, NT, B * H)](
        q, k, saved["G"], saved["gC"], dA, dAqk,
        dq, dk, dg,
        scale, T, H, NT,
        K=K, C=C, SB=SUB, BK=BKP, DT=0,  # tf32: dg is a difference of these sums
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
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q, k, v, beta = (x.contiguous() for x in (q, k, v, beta))
        g32 = g.float().contiguous()
        h0 = initial_state.float().contiguous() if initial_state is not None else None
        save = any(ctx.needs_input_grad)
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
        return dq.to(tq), dk.to(tk), dv.to(tv), dg.to(tg), db.to(tb), None, dh0, None


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
    return ChunkKDAFunction.apply(q, k, v, g, beta, scale, initial_state, output_final_state)
