// Package verifiercontracts holds zkdp's Solidity: the registry contract
// (contracts/ZkdpRegistry.sol), the Poseidon2 library generated from
// gnark-crypto's parameters (contracts/Poseidon2.sol), the export of gnark's
// Groth16 verifiers, and their compilation with solc.
//
// solc is the npm package `solc` at the version package.json pins, run by
// node with standard JSON (optimizer on). `npm ci` (or `make deps`) installs
// it under the repository's node_modules; nothing else needs it at run time.
package verifiercontracts

import (
	"bytes"
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// SolcVersion is the pinned compiler (package.json says the same; a test
// checks it).
const SolcVersion = "0.8.30"

// EVMVersion is the target: Cancun runs on every current chain and node.
const EVMVersion = "cancun"

// MaxCodeSize is EIP-170's limit on a contract's runtime code.
const MaxCodeSize = 24576

// Sentinel errors.
var (
	// ErrSolcMissing: node or the npm package solc is not installed.
	ErrSolcMissing = errors.New("solc not found: the npm package solc (pinned in package.json) is needed to compile the contracts; run `npm ci` (or `make deps`) in the repository root, or set ZKDP_NODE_MODULES to a node_modules folder holding solc@" + SolcVersion)
	// ErrSolcVersion: the installed solc is not the pinned one.
	ErrSolcVersion = errors.New("solc version differs from the pinned one; run `npm ci`")
	// ErrCompile: solc reported errors.
	ErrCompile = errors.New("solc compilation failed")
)

//go:embed contracts/*.sol
var sources embed.FS

// Contract is one compiled contract.
type Contract struct {
	Name     string          // e.g. "ZkdpRegistry"
	ABI      json.RawMessage // the JSON ABI
	Bytecode []byte          // creation code
	Runtime  []byte          // deployed code: its length is what EIP-170 limits
}

// solcScript reads standard JSON on stdin and writes solc's output; it also
// reports solc's version so a stale install is caught.
const solcScript = `
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  if (input === 'version') { process.stdout.write(solc.version()); return; }
  process.stdout.write(solc.compile(input));
});`

// solcPath locates node_modules/solc: ZKDP_NODE_MODULES, then the working
// directory and its parents, then this source file's module root.
func solcPath() (string, error) {
	var dirs []string
	if d := os.Getenv("ZKDP_NODE_MODULES"); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, "node_modules"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(file)), "node_modules"))
	}
	return findSolc(dirs)
}

func findSolc(dirs []string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, "solc")
		if _, err := os.Stat(filepath.Join(p, "package.json")); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked in %s)", ErrSolcMissing, strings.Join(dirs, ", "))
}

func node(ctx context.Context, stdin []byte) ([]byte, error) {
	p, err := solcPath()
	if err != nil {
		return nil, err
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not on PATH: %w", ErrSolcMissing, err)
	}
	cmd := exec.CommandContext(ctx, bin, "-e", solcScript, p)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: node: %w: %s", ErrCompile, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var versionOnce = sync.OnceValues(func() (string, error) {
	out, err := node(context.Background(), []byte("version"))
	return string(out), err
})

// Version returns the installed solc's version, checked against SolcVersion.
func Version() (string, error) {
	v, err := versionOnce()
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(v, SolcVersion+"+") {
		return v, fmt.Errorf("%w: installed %s, pinned %s", ErrSolcVersion, v, SolcVersion)
	}
	return v, nil
}

// Compile compiles Solidity sources (file name -> text) with the pinned solc,
// optimizer on, and returns every contract by name. Warnings are ignored;
// errors wrap ErrCompile with solc's messages.
func Compile(ctx context.Context, files map[string]string) (map[string]Contract, error) {
	if _, err := Version(); err != nil {
		return nil, err
	}
	type src struct {
		Content string `json:"content"`
	}
	in := map[string]any{
		"language": "Solidity",
		"sources":  map[string]src{},
		"settings": map[string]any{
			"optimizer":  map[string]any{"enabled": true, "runs": 200},
			"evmVersion": EVMVersion,
			"outputSelection": map[string]any{
				"*": map[string]any{"*": []string{"abi", "evm.bytecode.object", "evm.deployedBytecode.object"}},
			},
		},
	}
	for name, text := range files {
		in["sources"].(map[string]src)[name] = src{Content: text}
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	outRaw, err := node(ctx, raw)
	if err != nil {
		return nil, err
	}
	var out struct {
		Errors []struct {
			Severity         string `json:"severity"`
			FormattedMessage string `json:"formattedMessage"`
		} `json:"errors"`
		Contracts map[string]map[string]struct {
			ABI json.RawMessage `json:"abi"`
			EVM struct {
				Bytecode         struct{ Object string } `json:"bytecode"`
				DeployedBytecode struct{ Object string } `json:"deployedBytecode"`
			} `json:"evm"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal(outRaw, &out); err != nil {
		return nil, fmt.Errorf("%w: solc output: %w", ErrCompile, err)
	}
	var msgs []string
	for _, e := range out.Errors {
		if e.Severity == "error" {
			msgs = append(msgs, e.FormattedMessage)
		}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("%w:\n%s", ErrCompile, strings.Join(msgs, "\n"))
	}
	res := map[string]Contract{}
	var files2 []string
	for f := range out.Contracts {
		files2 = append(files2, f)
	}
	sort.Strings(files2)
	for _, f := range files2 {
		for name, c := range out.Contracts[f] {
			code, err := hex.DecodeString(c.EVM.Bytecode.Object)
			if err != nil {
				return nil, fmt.Errorf("%w: %s bytecode: %w", ErrCompile, name, err)
			}
			rt, err := hex.DecodeString(c.EVM.DeployedBytecode.Object)
			if err != nil {
				return nil, fmt.Errorf("%w: %s deployed bytecode: %w", ErrCompile, name, err)
			}
			if _, dup := res[name]; dup {
				return nil, fmt.Errorf("%w: two contracts named %s", ErrCompile, name)
			}
			res[name] = Contract{Name: name, ABI: c.ABI, Bytecode: code, Runtime: rt}
		}
	}
	return res, nil
}

// RegistryName is the registry contract's name.
const RegistryName = "ZkdpRegistry"

var registryOnce = sync.OnceValues(func() (Contract, error) {
	files := map[string]string{}
	for _, name := range []string{RegistryName + ".sol", Poseidon2File} {
		b, err := sources.ReadFile("contracts/" + name)
		if err != nil {
			return Contract{}, err
		}
		files[name] = string(b)
	}
	cs, err := Compile(context.Background(), files)
	if err != nil {
		return Contract{}, fmt.Errorf("registry: %w", err)
	}
	return cs[RegistryName], nil
})

// Registry compiles the registry contract (once per process).
func Registry() (Contract, error) { return registryOnce() }

// RegistrySource returns the registry's Solidity and the Poseidon2 library.
func RegistrySource() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range []string{RegistryName + ".sol", Poseidon2File} {
		b, err := sources.ReadFile("contracts/" + name)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}
