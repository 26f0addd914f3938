package digest

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// Vectors for inputs of n bytes i%251 (the BLAKE3 test-vector input): XXH3
// from zeebo/xxh3 (which matches python-xxhash), BLAKE3 from the official
// test_vectors.json where it lists the length (0, 1, 1023, 1024, 1025,
// 2048, 2049, 3072, 4096, 4097, 8192, 8193, 16384, 31744, 102400) and
// from zeebo/blake3 elsewhere.
var vectors = []struct {
	n      int
	hi, lo uint64
	blake3 string
}{
	{0, 0x99aa06d3014798d8, 0x6001c324468d497f, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
	{1, 0xa6cd5e9392000f6a, 0xc44bdff4074eecdb, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
	{2, 0x6a4a5274c1b0d3ad, 0xd6645fc3051a9457, "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63"},
	{3, 0xe3b55f57945a17cf, 0x5f4299fc161c9cbb, "e1be4d7a8ab5560aa4199eea339849ba8e293d55ca0a81006726d184519e647f"},
	{4, 0xeb70bf5fc779e9e6, 0xa6111d53e80a3db5, "f30f5ab28fe047904037f77b6da4fea1e27241c5d132638d8bedce9d40494f32"},
	{5, 0x9434532106a7c141, 0xc920d2347a85929b, "b40b44dfd97e7a84a996a91af8b85188c66c126940ba7aad2e7ae6b385402aa2"},
	{7, 0x61ce291bc3a4357d, 0xdbb207821e6d5efe, "3f8770f387faad08faa9d8414e9f449ac68e6ff0417f673f602a646a891419fe"},
	{8, 0xe1e4432a62217fe4, 0xcfd50c61c8bb98c1, "2351207d04fc16ade43ccab08600939c7c1fa70a5c0aaca76063d04c3228eaeb"},
	{9, 0x16c769d83e4aebce, 0x907931979dca3746, "a0fc27e5d7318b723207637bdeeba4f7dcb22f7f9ec3e8b6f3588ddcd4fdf861"},
	{15, 0x301a9f754e8f569a, 0x0017ea4be19bc787, "163475fc98871015d19097d29536653bdeac6a9c3a18ad4b3a629cfaa1bbf32e"},
	{16, 0x72950631827607e2, 0x842812cc870dcae2, "a6a492965517a830cb75fdb713465aa465f2f098233896fea44c1d98268bf9e3"},
	{17, 0x685bc458b37d057f, 0xc06e233df7729217, "8462aa7be93b09fda7b93cf9f9cddb703f6dd2cc0c8edd5f9eee092edf8abf0c"},
	{31, 0x4ed3946d393b687b, 0xb54de3993874ed20, "bda80c7fe2db38be6387b35c870bd7728d67b7b6cc5eb9b0e5c7dcb21ea754c2"},
	{32, 0x25e7c9b3424ceed2, 0x457d9566b6fcd697, "e528e95798037df410543d9f31e396ecdd458d71b157d6014398bae32fb56c65"},
	{33, 0x02175c3aabb00637, 0xe08d84951339de86, "4f4e6c1dffd3a6c9959876d15aa96b5fb0da8632b995f6ca2e30503f2829fa29"},
	{63, 0xbb8d4c458fac1f12, 0x0302a39b74a9cf52, "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b"},
	{64, 0x9c6e140a465545e5, 0x90c1971ddb04ce74, "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98"},
	{65, 0xebedf05eeadc28f1, 0x1aee64a1615de88f, "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee"},
	{95, 0xde19f6fe4a2bb296, 0xc86d45f8d4a2b90b, "45376ce6418ed3454d301cc373671d35bff7447860d86c545d380c8aceb8b65b"},
	{96, 0xc57556e9ccb97efa, 0x6e53ab55b4f5558b, "fd3748482969397a57dc96fa5646af44bb4928dcbebb795be6d61975c3766bd6"},
	{97, 0x9b09227e063da5a2, 0x5b3284a61f91e97d, "8a06220caed39c22d8889b73351488d6550c43d4b4a777bffa9fab4f2074a4af"},
	{127, 0xd5add870c9c9e00f, 0x060c2e3ddf0f2fb9, "d81293fda863f008c09e92fc382a81f5a0b4a1251cba1634016a0f86a6bd640d"},
	{128, 0x14792fc3af88dc6c, 0x05321a0b64d67b41, "f17e570564b26578c33bb7f44643f539624b05df1a76c81f30acd548c44b45ef"},
	{129, 0xdd5e74ac6b45f54e, 0xbc30b63382b09a3b, "683aaae9f3c5ba37eaaf072aed0f9e30bac0865137bae68b1fde4ca2aebdcb12"},
	{159, 0xe34482de7831e5f6, 0xaea9455053a8845b, "f74aed0999da01bfce1fb5564b28e8483209e5d42b21e357076f6e1b30408733"},
	{160, 0x4e95c1cd6dc7bb85, 0xc67fcd13c31b09f4, "4eeaf67454f501a707152e7ce8009b3f6ff5724ad5f042f7ca595f588c1d3080"},
	{161, 0x90805aa22c17b7a0, 0x36ade0cea58f8377, "681f740f1059dfd51455c7f7f0c1745d1227d457e3c2e722d4c6ad80494c0066"},
	{191, 0xf8a8b7d9aad39ee4, 0xb224afe71ffd14d8, "67950b54b585e93b7234229ed3a00bcba5f1fa8e6226f367e638f24916384d89"},
	{192, 0x10c987dc285c756b, 0x050f429c4f52b688, "4abc5d2328fb4acc549aff4b877df00ba52d469757749d6b8c33d45870b8fcff"},
	{200, 0xcb0395310643ba0e, 0xdd97e9af3609d9f5, "f9c991a91ce818ab00f3bf22cef993a2f8d9ab0206f2b9efcef063bb19046966"},
	{239, 0x9843ab31a06be0df, 0xfe21374628fcc539, "1f91ca9b6d63155d9b4f4a21aa1ebdde39f30620fe6e162273577db54131d51c"},
	{240, 0x65b5be86da5540e7, 0xc92b68e16f83bbb6, "45e1a0dc23dbe51733d7269a3c0f519c2a63b0718835b2b537677eba734db0d8"},
	{241, 0x1da1cb61bcb8a2a1, 0x02e8cd95421c6d02, "749b36ae651c22e8567db692a6876e0ca4fd3daeb7aa8fa3ab2f642ccc69a8f6"},
	{255, 0x65652759c081c563, 0x074191baf9c49567, "cb97b80a66306dd2d4f1ab7ff9fd17d3d62d88c974e8daf0ea9fbd0b1ae1b1c1"},
	{256, 0x96c36c85d00e5bc5, 0x44f5d90dacde463a, "f462b63aae56ed9fb899ad8eb93aa35d3dd62773fda9c33bfe20f9dab5d3df5f"},
	{257, 0x8c650dc0594ae281, 0x88fc3f7934a6c9be, "3d41df314e2c7af6919d994b391780a7d8abb9a57b1abf64e04ec5d49428788e"},
	{300, 0x948c8677fbb606fc, 0xfdda6967cf021dbc, "1309d44c9edaf51147844a5f38f884225acb365d7a5b4de34ef328671b5c6af5"},
	{511, 0xe8d4474ecc01a76b, 0x455cffca2755aa1e, "7469b385b5290a1011288fc80a7fdb8677497dbc1d3b6daf93667725f68708f5"},
	{512, 0x5884ea91ad7102d7, 0x5c021aac13954143, "87aa0321ee04decf72d6fe8d5799d6216db538c0da4a367d6d456643e9ea7994"},
	{513, 0xb2c5a3216bea49d2, 0x4ee4eacf61b5e833, "8e89cd63966193dfaecf124fe5893bf609aba748067b321afadc974d58374498"},
	{1023, 0x4325711b0ed4d742, 0xd3d91d80ac495685, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
	{1024, 0xd0ac1f7b93bf57b9, 0xe5d78bafa45b2aa5, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
	{1025, 0x2882ebca04ec915c, 0xe95c42288f28186e, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
	{1056, 0x9e404a720da7af89, 0x0f98c701a0679639, "f39a7f8fb475179c56b67e11bd2a5896f33110b3ed2f430163990e27abaa3c13"},
	{1087, 0x4139a4f49a2c6118, 0xfd3c95bb928139ce, "57c12784b6d98f77c77d3d1e7a72deac31812757544c65cec91ca1c4d8f47b34"},
	{1088, 0x295519bc52981c5c, 0x1a848d807034c403, "34cb29f8331fab983df7f8d4c17846a186d68e1aa790983ccc00065ce27926c5"},
	{1089, 0xbd054149e0f6660e, 0xa51e35ec282cb1d8, "f659f83b781e131c8c7c509ddffa4f88f65db90a5958af961dc8d6f83d976fb5"},
	{2047, 0x6c555bf670e067a3, 0xc95eaacd676cd049, "58830fbf51a4423c573b164471690570e544cfe793bead46225664796b4b1467"},
	{2048, 0xa5141efedfefc1af, 0x25339063db861586, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
	{2049, 0x39a54bc93f74921b, 0x6c9600c0e506e2ae, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
	{3072, 0x6ad7706834262fbe, 0x4adb90b35034df6b, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
	{4095, 0xc586959432953ea5, 0xa541030d777f5abe, "0cdbdde4d038f0509412a5d1c3b1fb767d5e8c8a0eb2aae963fd36d1f544791a"},
	{4096, 0xe12cd72144990fe5, 0x7135ffa504f1bc71, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
	{4097, 0x0f77b4bc73e3337d, 0xb69d29f17d48293f, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
	{8192, 0xd481c9ee8a8fe429, 0x40a71c16bbe37322, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
	{8193, 0xeaa446aa30f78391, 0xd6735a2b792cf505, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
	{16384, 0x89f77cad30e7b59d, 0x168f7fb4781d0831, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
	{31744, 0x786ea195976b880d, 0x5162bbaf8b257803, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
	{102400, 0xecd387d36185351b, 0x1428e17f1cac2837, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
	{1048577, 0x3db0e7620b0d6359, 0x47a84c196fd973df, "2f053cd7472cf0cd2f9adaf45c1180255b91b9a865404a63671a0ee5f792ed33"},
}

func vectorInput(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		in := vectorInput(v.n)
		if hi, lo := XXH3(in); hi != v.hi || lo != v.lo {
			t.Errorf("XXH3(%d bytes) = %016x%016x, want %016x%016x", v.n, hi, lo, v.hi, v.lo)
		}
		if got := BLAKE3(in); hex.EncodeToString(got[:]) != v.blake3 {
			t.Errorf("BLAKE3(%d bytes) = %x, want %s", v.n, got, v.blake3)
		}
		// Unaligned input: the same bytes one byte into a buffer.
		un := append([]byte{0xff}, in...)[1:]
		if hi, lo := XXH3(un); hi != v.hi || lo != v.lo {
			t.Errorf("XXH3(%d unaligned bytes) = %016x%016x", v.n, hi, lo)
		}
	}
}

// TestGoPaths checks the Go fallbacks (other architectures, CPUs without
// SSE4.1) against the vectors.
func TestGoPaths(t *testing.T) {
	BLAKE3(nil) // detect
	ok := sse41Enabled(false)
	defer sse41Enabled(ok)
	for _, v := range vectors {
		in := vectorInput(v.n)
		if got := BLAKE3(in); hex.EncodeToString(got[:]) != v.blake3 {
			t.Errorf("BLAKE3 in Go (%d bytes) = %x, want %s", v.n, got, v.blake3)
		}
		if v.n > 240 {
			a, b := xxh3Seeds(), xxh3Seeds()
			xxh3Accumulate(&a, in)
			xxh3AccumulateGo(&b, in)
			if a != b {
				t.Errorf("XXH3 accumulation of %d bytes: the SSE2 and Go loops differ", v.n)
			}
		}
	}
}

func xxh3Seeds() [8]uint64 {
	return [8]uint64{prime32_3, prime64_1, prime64_2, prime64_3, prime64_4, prime32_2, prime64_5, prime32_1}
}

// FuzzAccelerated compares the assembly (SSE2 XXH3 accumulation, SSE4.1
// BLAKE3 compression) with the Go code on arbitrary inputs.
func FuzzAccelerated(f *testing.F) {
	f.Add(vectorInput(241))
	f.Add(vectorInput(1056))
	f.Add(vectorInput(4097))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 240 {
			a, b := xxh3Seeds(), xxh3Seeds()
			xxh3Accumulate(&a, in)
			xxh3AccumulateGo(&b, in)
			if a != b {
				t.Fatalf("XXH3 accumulation of %d bytes: the SSE2 and Go loops differ", len(in))
			}
		}
		fast := BLAKE3(in)
		ok := sse41Enabled(false)
		slow := BLAKE3(in)
		sse41Enabled(ok)
		if !bytes.Equal(fast[:], slow[:]) {
			t.Fatalf("BLAKE3 of %d bytes: %x with SSE4.1, %x in Go", len(in), fast, slow)
		}
	})
}

// BenchmarkDigest1056: one chunk of LMCache's multi-process mode (32-byte
// prefix + 256 tokens as uint32) or about one CBOR chunk of 256 tokens.
func BenchmarkDigest1056(b *testing.B) {
	in := vectorInput(1056)
	b.Run("xxh3", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			XXH3(in)
		}
	})
	b.Run("blake3", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			BLAKE3(in)
		}
	})
}
