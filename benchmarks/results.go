package benchmarks

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zkdp/zkdp/run"
)

// Sentinel errors.
var (
	// ErrSection: an unknown section name, or a saved file of another section.
	ErrSection = errors.New("benchmarks: unknown section")
	// ErrSaved: a saved section cannot be read.
	ErrSaved = errors.New("benchmarks: unreadable saved section")
)

// Section names, in report order.
const (
	SectionAccuracy   = "accuracy"
	SectionTraining   = "training"
	SectionAccountant = "accountant"
	SectionCircuits   = "circuits"
	SectionProving    = "proving"
	SectionScaling    = "scaling"
	SectionRuns       = "runs"
	SectionInference  = "inference"
	SectionGas        = "gas"
	SectionCSV        = "csv"
)

// Sections lists every section in report order.
var Sections = []string{SectionAccuracy, SectionTraining, SectionAccountant, SectionCircuits, SectionProving,
	SectionScaling, SectionRuns, SectionInference, SectionGas, SectionCSV}

// DefaultDir is where sections are saved, relative to the repository root.
const DefaultDir = "benchmarks/results"

// Machine is where a section was measured.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemoryGiB float64 `json:"memory_gib"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
	Go        string  `json:"go"`
	// Load is the 1-minute load average when the section was saved: on a
	// shared machine it says how much of it the measurement had.
	Load float64 `json:"load_average_1m"`
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d cores, %.1f GiB RAM, %s/%s, %s", m.CPU, m.Cores, m.MemoryGiB, m.OS, m.Arch, m.Go)
	if m.Load > 0 {
		s += fmt.Sprintf(", load average %.1f when saved", m.Load)
	}
	return s
}

// ReadMachine describes this machine from /proc (CPU model, memory) and the
// Go runtime; what /proc does not say stays empty.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n float64
		if _, err := fmt.Sscanf(kb, "%f kB", &n); err == nil {
			m.MemoryGiB = n / (1 << 20)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscanf(string(b), "%f", &m.Load)
	}
	return m
}

// procField is the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Saved is a section's file.
type Saved struct {
	Section string          `json:"section"`
	Machine Machine         `json:"machine"`
	Date    time.Time       `json:"date"`
	Command string          `json:"command"`
	Result  json.RawMessage `json:"result"`
}

func known(section string) bool {
	for _, s := range Sections {
		if s == section {
			return true
		}
	}
	return false
}

// Path is a section's file in dir.
func Path(dir, section string) string { return filepath.Join(dir, section+".json") }

// Save stores a section's result with this machine, the time and the
// command that measured it.
func Save(dir, section, command string, result any) error {
	if !known(section) {
		return fmt.Errorf("%w %q", ErrSection, section)
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("benchmarks: encoding %s: %w", section, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benchmarks: %w", err)
	}
	s := Saved{Section: section, Machine: ReadMachine(), Date: time.Now().UTC().Truncate(time.Second), Command: command, Result: raw}
	return run.WriteJSON(Path(dir, section), s, run.PublicMode)
}

// LoadAll reads every saved section in dir; a missing section is absent from
// the map, an unreadable one is an error naming its file.
func LoadAll(dir string) (map[string]Saved, error) {
	out := map[string]Saved{}
	for _, section := range Sections {
		path := Path(dir, section)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		var s Saved
		if err := run.ReadJSON(path, &s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSaved, err)
		}
		if s.Section != section {
			return nil, fmt.Errorf("%w: %s holds section %q", ErrSection, path, s.Section)
		}
		out[section] = s
	}
	return out, nil
}

// decode reads a saved section's result into v.
func (s Saved) decode(v any) error {
	if err := json.Unmarshal(s.Result, v); err != nil {
		return fmt.Errorf("%w: section %s: %w", ErrSaved, s.Section, err)
	}
	return nil
}
