#!/usr/bin/env python3
# Derives the affine maps in src/consts.rs that turn the SM4 S-box into the AES field
# inversion (for AESENCLAST and for GF2P8AFFINEINVQB), checking each on all 256 inputs.
# Reads the S-box of the `sm4` crate from the cargo registry. Run: python3 tools/derive_sbox_maps.py
import re,glob
src=open(glob.glob('/root/.cargo/registry/src/*/sm4-0.6.0/src/consts.rs')[0]).read()
sb=src.split('SBOX')[1].split('];')[0]
S=[int(x,16) for x in re.findall(r'0x[0-9a-f]{2}',sb)]
def gmul(a,b,poly):
    r=0
    while b:
        if b&1:r^=a
        b>>=1;a<<=1
        if a&0x100:a^=poly
    return r
def inv(x,poly):
    if x==0:return 0
    for y in range(1,256):
        if gmul(x,y,poly)==1:return y
def par(v): return bin(v).count('1')&1
def rotl8(v,n): return ((v<<n)|(v>>(8-n)))&0xff
# linear maps as functions on bytes; represent by images of unit vectors (cols)
def apply(cols,x):
    r=0
    for i in range(8):
        if x>>i&1: r^=cols[i]
    return r
def cols_of(f): return [f(1<<i) for i in range(8)]
def compose(a,b): return [apply(a,c) for c in b]  # a after b
def inverse(cols):
    m={}
    for x in range(256): m[apply(cols,x)]=x
    return cols_of(lambda y:m[y])
Arows=[rotl8(0xa7,i) for i in range(8)]
A=cols_of(lambda x: sum(par(Arows[i]&x)<<i for i in range(8)))
C=0xd3
aes_inv=[inv(x,0x11b) for x in range(256)]
AES_S=[0]*256
aes_aff_rows=[rotl8(0xf1,i) for i in range(8)]  # AES affine: b_i = x_i ^ x_{i+4} ^ x_{i+5} ^ x_{i+6} ^ x_{i+7}
Aaes=cols_of(lambda x: sum(par(aes_aff_rows[i]&x)<<i for i in range(8)))
for x in range(256): AES_S[x]=apply(Aaes,aes_inv[x])^0x63
assert AES_S[0]==0x63 and AES_S[1]==0x7c and AES_S[0x53]==0xed, (hex(AES_S[1]),hex(AES_S[0x53]))
# roots of 0x1f5 in AES field
def pw(b,e):
    r=1
    for _ in range(e): r=gmul(r,b,0x11b)
    return r
roots=[b for b in range(2,256) if (pw(b,8)^pw(b,7)^pw(b,6)^pw(b,5)^pw(b,4)^pw(b,2)^1)==0]
beta=roots[0]
T=[pw(beta,i) for i in range(8)]
Ti=inverse(T)
M1=compose(T,A); c1=apply(T,C)
pre=lambda x: apply(M1,x)^c1
# GFNI: S(x) = (A Ti) inv_aes(pre x) ^ C
G2=compose(A,Ti); g2c=C
assert all(apply(G2,aes_inv[pre(x)])^g2c==S[x] for x in range(256))
# AES-NI: S(x) = A Ti Aaes^-1 (AES_S(pre x) ^ 0x63) ^ C
M2=compose(G2,inverse(Aaes)); c2=apply(M2,0x63)^C
post=lambda y: apply(M2,y)^c2
assert all(post(AES_S[pre(x)])==S[x] for x in range(256))
def gfni_q(cols):
    rows=[sum(((cols[j]>>i)&1)<<j for j in range(8)) for i in range(8)]
    return sum(rows[i]<<(8*(7-i)) for i in range(8))
def emit(name,vals): print(f"pub(crate) const {name}: [u8; 16] = [{', '.join('0x%02x'%v for v in vals)}];")
print("// pre-transform x -> M1 x + c1, post-transform y -> M2 y + c2 (nibble tables)")
emit("PRE_LO",[pre(i) for i in range(16)])
emit("PRE_HI",[apply(M1,i<<4) for i in range(16)])
emit("POST_LO",[post(i) for i in range(16)])
emit("POST_HI",[apply(M2,i<<4) for i in range(16)])
print(f"pub(crate) const GFNI_PRE: u64 = 0x{gfni_q(M1):016x};")
print(f"pub(crate) const GFNI_PRE_C: u8 = 0x{c1:02x};")
print(f"pub(crate) const GFNI_POST: u64 = 0x{gfni_q(G2):016x};")
print(f"pub(crate) const GFNI_POST_C: u8 = 0x{g2c:02x};")
# check gfni encoding semantics emulation
def gf2p8affine(x,q,b):
    r=0
    for i in range(8):
        row=(q>>(8*(7-i)))&0xff
        r|=(par(row&x)^((b>>i)&1))<<i
    return r
assert all(gf2p8affine(aes_inv[gf2p8affine(x,gfni_q(M1),c1)],gfni_q(G2),g2c)==S[x] for x in range(256))
print("// ok, beta=0x%02x"%beta)
