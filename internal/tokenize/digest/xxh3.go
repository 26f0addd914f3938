package digest

import (
	"encoding/binary"
	"math/bits"
)

// XXH3 is XXH3-128 with seed 0 and the default secret, as python-xxhash's
// xxh3_128 computes it: the high and low halves of the 128-bit hash.
//
// The code follows github.com/zeebo/xxh3 (BSD 2-Clause License, Copyright
// (c) 2012-2014 Yann Collet, Copyright (c) 2019 Jeff Wendling; see
// LICENSE.xxh3), reduced to the one-shot 128-bit hash. Inputs above 240
// bytes are accumulated with SSE2 on amd64 (every amd64 CPU has it, so
// nothing is detected at start-up) and in Go elsewhere.
func XXH3(b []byte) (hi, lo uint64) {
	l := len(b)
	switch {
	case l <= 16:
		return xxh3Short(b)
	case l <= 128:
		return xxh3Mid(b)
	case l <= 240:
		return xxh3Mid240(b)
	}
	return xxh3Long(b)
}

const (
	prime32_1 = 2654435761
	prime32_2 = 2246822519
	prime32_3 = 3266489917

	prime64_1 = 11400714785074694791
	prime64_2 = 14029467366897019727
	prime64_3 = 1609587929392839161
	prime64_4 = 9650029242287828579
	prime64_5 = 2870177450012600261

	xxh3Stripe = 64
	xxh3Block  = 1024
)

// xxh3Secret is XXH3's default secret (kSecret).
var xxh3Secret = [192]byte{
	0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
	0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
	0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
	0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
	0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
	0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
	0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
	0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
	0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
	0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
	0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
	0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
}

// key64 reads the secret's little-endian uint64 at byte offset o (folded
// to a constant where o is constant).
func key64(o int) uint64 { return binary.LittleEndian.Uint64(xxh3Secret[o:]) }
func key32(o int) uint32 { return binary.LittleEndian.Uint32(xxh3Secret[o:]) }

func rd64(b []byte, o int) uint64 { return binary.LittleEndian.Uint64(b[o:]) }

func mulFold64(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

func xxh3Avalanche(x uint64) uint64 {
	x ^= x >> 37
	x *= 0x165667919e3779f9
	x ^= x >> 32
	return x
}

func xxh64AvalancheSmall(x uint64) uint64 {
	x *= prime64_2
	x ^= x >> 29
	x *= prime64_3
	x ^= x >> 32
	return x
}

func xxh3Short(b []byte) (hi, lo uint64) {
	l := len(b)
	switch {
	case l > 8: // 9-16
		bitflipl := key64(32) ^ key64(40)
		bitfliph := key64(48) ^ key64(56)
		inputLo := rd64(b, 0)
		inputHi := rd64(b, l-8)
		mh, ml := bits.Mul64(inputLo^inputHi^bitflipl, prime64_1)
		ml += uint64(l-1) << 54
		inputHi ^= bitfliph
		mh += inputHi + uint64(uint32(inputHi))*(prime32_2-1)
		ml ^= bits.ReverseBytes64(mh)
		hi, lo = bits.Mul64(ml, prime64_2)
		hi += mh * prime64_2
		return xxh3Avalanche(hi), xxh3Avalanche(lo)
	case l > 3: // 4-8
		bitflip := key64(16) ^ key64(24)
		inLo := binary.LittleEndian.Uint32(b)
		inHi := binary.LittleEndian.Uint32(b[l-4:])
		keyed := (uint64(inLo) + uint64(inHi)<<32) ^ bitflip
		hi, lo = bits.Mul64(keyed, prime64_1+uint64(l)<<2)
		hi += lo << 1
		lo ^= hi >> 3
		lo ^= lo >> 35
		lo *= 0x9fb21c651e98df25
		lo ^= lo >> 28
		return xxh3Avalanche(hi), lo
	case l == 3:
		lo = uint64(binary.LittleEndian.Uint16(b))<<16 + uint64(b[2]) + 3<<8
	case l == 2:
		lo = uint64(binary.LittleEndian.Uint16(b))*(1<<24+1)>>8 + 2<<8
	case l == 1:
		lo = uint64(b[0])*(1<<24+1<<16+1) + 1<<8
	default:
		return 0x99aa06d3014798d8, 0x6001c324468d497f
	}
	hi = uint64(bits.RotateLeft32(bits.ReverseBytes32(uint32(lo)), 13))
	lo ^= uint64(key32(0) ^ key32(4))
	hi ^= uint64(key32(8) ^ key32(12))
	return xxh64AvalancheSmall(hi), xxh64AvalancheSmall(lo)
}

// xxh3Mix32 folds 32 input bytes (two pairs) into the accumulators.
func xxh3Mix32(hi, lo *uint64, a0, a1, b0, b1 uint64, k int) {
	*lo += mulFold64(a0^key64(k), a1^key64(k+8))
	*lo ^= b0 + b1
	*hi += mulFold64(b0^key64(k+16), b1^key64(k+24))
	*hi ^= a0 + a1
}

func xxh3Mid(b []byte) (hi, lo uint64) { // 17-128
	l := len(b)
	lo = uint64(l) * prime64_1
	if l > 32 {
		if l > 64 {
			if l > 96 {
				xxh3Mix32(&hi, &lo, rd64(b, 48), rd64(b, 56), rd64(b, l-64), rd64(b, l-56), 96)
			}
			xxh3Mix32(&hi, &lo, rd64(b, 32), rd64(b, 40), rd64(b, l-48), rd64(b, l-40), 64)
		}
		xxh3Mix32(&hi, &lo, rd64(b, 16), rd64(b, 24), rd64(b, l-32), rd64(b, l-24), 32)
	}
	xxh3Mix32(&hi, &lo, rd64(b, 0), rd64(b, 8), rd64(b, l-16), rd64(b, l-8), 0)
	return xxh3MidFinish(hi, lo, l)
}

func xxh3MidFinish(hi, lo uint64, l int) (uint64, uint64) {
	hi, lo = lo*prime64_1+hi*prime64_4+uint64(l)*prime64_2, hi+lo
	return -xxh3Avalanche(hi), xxh3Avalanche(lo)
}

func xxh3Mid240(b []byte) (hi, lo uint64) { // 129-240
	l := len(b)
	lo = uint64(l) * prime64_1
	for i := 0; i < 4; i++ {
		o := 32 * i
		xxh3Mix32(&hi, &lo, rd64(b, o), rd64(b, o+8), rd64(b, o+16), rd64(b, o+24), o)
	}
	hi, lo = xxh3Avalanche(hi), xxh3Avalanche(lo)
	for o := 128; o < l&^31; o += 32 {
		k := o - 125 // XXH3_MIDSIZE_STARTOFFSET 3, less the 128 bytes done
		xxh3Mix32(&hi, &lo, rd64(b, o), rd64(b, o+8), rd64(b, o+16), rd64(b, o+24), k)
	}
	// The last 32 bytes, with the secret at 136-17 and the pairs swapped.
	k := 136 - 17
	a0, a1, c0, c1 := rd64(b, l-32), rd64(b, l-24), rd64(b, l-16), rd64(b, l-8)
	hi += mulFold64(a0^key64(k), a1^key64(k+8))
	hi ^= c0 + c1
	lo += mulFold64(c0^key64(k-16), c1^key64(k-8))
	lo ^= a0 + a1
	return xxh3MidFinish(hi, lo, l)
}

func xxh3Long(b []byte) (hi, lo uint64) {
	l := len(b)
	lo = uint64(l) * prime64_1
	hi = ^(uint64(l) * prime64_2)
	accs := [8]uint64{prime32_3, prime64_1, prime64_2, prime64_3, prime64_4, prime32_2, prime64_5, prime32_1}
	xxh3Accumulate(&accs, b)
	for i := 0; i < 4; i++ {
		lo += mulFold64(accs[2*i]^key64(11+16*i), accs[2*i+1]^key64(19+16*i))
		hi += mulFold64(accs[2*i]^key64(117+16*i), accs[2*i+1]^key64(125+16*i))
	}
	return xxh3Avalanche(hi), xxh3Avalanche(lo)
}

// xxh3AccumulateGo is XXH3's long-input loop in Go: whole blocks of 16
// stripes, each block followed by a scramble, then the remaining stripes
// and the last stripe (the input's final 64 bytes) with the secret at
// 192-64-7.
func xxh3AccumulateGo(accs *[8]uint64, b []byte) {
	l := len(b)
	const stripesPerBlock = (192 - 64) / 8
	n := 0
	for ; n+xxh3Block < l; n += xxh3Block {
		for s := 0; s < stripesPerBlock; s++ {
			xxh3Stripe64(accs, b[n+64*s:], 8*s)
		}
		xxh3Scramble(accs)
	}
	stripes := (l - 1 - n) / xxh3Stripe
	for s := 0; s < stripes; s++ {
		xxh3Stripe64(accs, b[n+64*s:], 8*s)
	}
	xxh3Stripe64(accs, b[l-64:], 192-64-7)
}

func xxh3Stripe64(accs *[8]uint64, p []byte, k int) {
	p = p[:64]
	for i := 0; i < 8; i++ {
		v := binary.LittleEndian.Uint64(p[8*i:])
		dk := v ^ binary.LittleEndian.Uint64(xxh3Secret[k+8*i:])
		accs[i^1] += v
		accs[i] += uint64(uint32(dk)) * (dk >> 32)
	}
}

func xxh3Scramble(accs *[8]uint64) {
	for i := 0; i < 8; i++ {
		a := accs[i]
		a ^= a >> 47
		a ^= binary.LittleEndian.Uint64(xxh3Secret[192-64+8*i:])
		accs[i] = a * prime32_1
	}
}
