// Package chain puts zkdp's proofs on an Ethereum chain: it deploys the
// gnark-exported verifiers and the registry (package verifiercontracts),
// registers runs, fixes their beacon, submits step proofs, finalizes models,
// verifies inference proofs, decodes reverts through the contracts' ABIs and
// records the gas of every transaction.
//
// Two backends: go-ethereum's in-process simulated chain (the default; a
// generated dev key, no setup, it lives as long as the process) and any
// JSON-RPC URL, with the sender's key from an encrypted keystore file.
package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	neturl "net/url"
	"os"
	"strings"
	"sync"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	verifiercontracts "github.com/zkdp/zkdp/verifier-contracts"
)

// Sentinel errors.
var (
	// ErrReverted: a transaction or call reverted; the error is a *RevertError.
	ErrReverted = errors.New("reverted")
	// ErrKey: the sender's key could not be loaded.
	ErrKey = errors.New("chain: sender key")
	// ErrConnect: the RPC endpoint cannot be reached.
	ErrConnect = errors.New("chain: connect")
	// ErrTx: a transaction could not be sent or mined.
	ErrTx = errors.New("chain: transaction")
	// ErrNoContract: no code at an address the caller named.
	ErrNoContract = errors.New("chain: no contract at address")
)

// PasswordEnv names the environment variable that may hold the keystore's
// passphrase when no password file is given.
const PasswordEnv = "ZKDP_CHAIN_PASSWORD"

// Client is what the package needs of a node; both ethclient.Client and the
// simulated backend's client have it.
type Client interface {
	ethereum.BlockNumberReader
	ethereum.ChainReader
	ethereum.ChainStateReader
	ethereum.ContractCaller
	ethereum.GasEstimator
	ethereum.GasPricer
	ethereum.GasPricer1559
	ethereum.PendingStateReader
	ethereum.TransactionReader
	ethereum.TransactionSender
	ethereum.ChainIDReader
}

// Chain is a connection with a sender.
type Chain struct {
	Client  Client
	From    common.Address
	ChainID *big.Int
	// Name says which chain: "simulated" or the RPC URL.
	Name string

	key   *ecdsa.PrivateKey
	sim   *simulated.Backend // nil over RPC
	close func() error
	mu    *sync.Mutex // one sender's nonces, shared by As copies
	abis  *abiSet
}

// NewSimulated starts an in-process chain with a generated dev key that holds
// plenty of ether; fund lists more accounts to credit (for tests).
func NewSimulated(fund ...common.Address) (*Chain, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	rich := new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil)
	alloc := types.GenesisAlloc{from: {Balance: rich}}
	for _, a := range fund {
		alloc[a] = types.Account{Balance: rich}
	}
	// A verifier's deployment takes a few million gas; leave room.
	sim := simulated.NewBackend(alloc, simulated.WithBlockGasLimit(60_000_000), mainnetRules)
	c := &Chain{Client: sim.Client(), From: from, Name: "simulated", key: key, sim: sim, close: sim.Close, mu: &sync.Mutex{}, abis: newABISet()}
	if c.ChainID, err = c.Client.ChainID(context.Background()); err != nil {
		sim.Close()
		return nil, err
	}
	return c, nil
}

// mainnetRules stops the dev chain's forks at Osaka, the rules Ethereum
// mainnet runs: go-ethereum's dev config also enables Bogota, a future fork
// whose gas schedule differs, and gas figures should be mainnet's.
func mainnetRules(_ *node.Config, eth *ethconfig.Config) {
	cfg := *eth.Genesis.Config
	cfg.BogotaTime = nil
	eth.Genesis.Config = &cfg
}

// Open is the chain that settings name: the in-process simulated chain when
// rpc is empty, else Dial.
func Open(ctx context.Context, rpc, keystoreFile, passwordFile string) (*Chain, error) {
	if rpc == "" {
		return NewSimulated()
	}
	return Dial(ctx, rpc, keystoreFile, passwordFile)
}

// Dial connects to a JSON-RPC node with the key of an encrypted keystore
// file. The passphrase comes from passwordFile, or else from $ZKDP_CHAIN_PASSWORD;
// a raw key is never read from a config.
func Dial(ctx context.Context, url, keystoreFile, passwordFile string) (*Chain, error) {
	key, err := LoadKey(keystoreFile, passwordFile)
	if err != nil {
		return nil, err
	}
	cl, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConnect, redact(url), err)
	}
	c := &Chain{Client: cl, From: crypto.PubkeyToAddress(key.PublicKey), Name: redact(url), key: key,
		close: func() error { cl.Close(); return nil }, mu: &sync.Mutex{}, abis: newABISet()}
	if c.ChainID, err = cl.ChainID(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrConnect, c.Name, err)
	}
	return c, nil
}

// redact keeps a URL's scheme and host: providers put API keys in the path,
// the query or the user info, and Name goes into public reports.
func redact(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		return "rpc"
	}
	return u.Scheme + "://" + u.Host
}

// LoadKey decrypts a go-ethereum keystore file.
func LoadKey(keystoreFile, passwordFile string) (*ecdsa.PrivateKey, error) {
	if keystoreFile == "" {
		return nil, fmt.Errorf("%w: an RPC chain needs a keystore file (--keystore or chain.keystore)", ErrKey)
	}
	blob, err := os.ReadFile(keystoreFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	var pass string
	switch {
	case passwordFile != "":
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("%w: password file: %w", ErrKey, err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	default:
		var ok bool
		if pass, ok = os.LookupEnv(PasswordEnv); !ok {
			return nil, fmt.Errorf("%w: give a password file (--password-file or chain.password_file) or set %s", ErrKey, PasswordEnv)
		}
	}
	k, err := keystore.DecryptKey(blob, pass)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKey, keystoreFile, err)
	}
	return k.PrivateKey, nil
}

// As returns the same chain with another sender (on the simulated chain the
// account must have been funded).
func (c *Chain) As(key *ecdsa.PrivateKey) *Chain {
	cp := *c
	cp.key, cp.From, cp.mu, cp.close = key, crypto.PubkeyToAddress(key.PublicKey), &sync.Mutex{}, func() error { return nil }
	return &cp
}

// Simulated reports whether the chain is the in-process one.
func (c *Chain) Simulated() bool { return c.sim != nil }

// Close stops the simulated chain or closes the RPC connection.
func (c *Chain) Close() error { return c.close() }

// AdvanceBlocks waits until n more blocks exist: it mines empty blocks on the
// simulated chain, and polls a node (geth --dev mines every --dev.period).
func (c *Chain) AdvanceBlocks(ctx context.Context, n uint64) error {
	start, err := c.Client.BlockNumber(ctx)
	if err != nil {
		return err
	}
	if c.sim != nil {
		for range n {
			c.sim.Commit()
		}
		return nil
	}
	for {
		now, err := c.Client.BlockNumber(ctx)
		if err != nil {
			return err
		}
		if now >= start+n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Call runs a read-only call; a revert is decoded.
func (c *Chain) Call(ctx context.Context, to common.Address, data []byte) ([]byte, error) {
	out, err := c.Client.CallContract(ctx, ethereum.CallMsg{From: c.From, To: &to, Data: data}, nil)
	if err != nil {
		return nil, c.abis.decode(err)
	}
	return out, nil
}

// Transact sends a transaction (to == nil deploys data) and waits for its
// receipt. A transaction that would revert is not sent: the estimate's
// revert is decoded and returned as a *RevertError.
func (c *Chain) Transact(ctx context.Context, to *common.Address, data []byte) (*types.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gas, err := c.Client.EstimateGas(ctx, ethereum.CallMsg{From: c.From, To: to, Data: data})
	if err != nil {
		return nil, c.abis.decode(err)
	}
	nonce, err := c.Client.PendingNonceAt(ctx, c.From)
	if err != nil {
		return nil, fmt.Errorf("%w: nonce: %w", ErrTx, err)
	}
	head, err := c.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: head: %w", ErrTx, err)
	}
	// The estimate is exact for these contracts; a margin covers the 63/64
	// rule of the registry's call into a verifier.
	limit := gas + gas/5
	var txdata types.TxData
	if head.BaseFee == nil { // a chain without EIP-1559
		price, err := c.Client.SuggestGasPrice(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: gas price: %w", ErrTx, err)
		}
		txdata = &types.LegacyTx{Nonce: nonce, GasPrice: price, Gas: limit, To: to, Data: data}
	} else {
		tip, err := c.Client.SuggestGasTipCap(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: tip: %w", ErrTx, err)
		}
		feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
		txdata = &types.DynamicFeeTx{ChainID: c.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: limit, To: to, Data: data}
	}
	tx, err := types.SignNewTx(c.key, types.LatestSignerForChainID(c.ChainID), txdata)
	if err != nil {
		return nil, fmt.Errorf("%w: sign: %w", ErrTx, err)
	}
	if err := c.Client.SendTransaction(ctx, tx); err != nil {
		return nil, fmt.Errorf("%w: send: %w", ErrTx, c.abis.decode(err))
	}
	if c.sim != nil {
		c.sim.Commit()
	}
	for {
		r, err := c.Client.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return r, fmt.Errorf("%w: %s failed on-chain (gas used %d)", ErrTx, tx.Hash(), r.GasUsed)
			}
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) {
			return nil, fmt.Errorf("%w: receipt: %w", ErrTx, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for %s: %w", ErrTx, tx.Hash(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Deploy deploys a compiled contract and remembers its ABI for decoding
// reverts.
func (c *Chain) Deploy(ctx context.Context, contract verifiercontracts.Contract) (common.Address, *types.Receipt, error) {
	if err := c.abis.add(contract.ABI); err != nil {
		return common.Address{}, nil, err
	}
	r, err := c.Transact(ctx, nil, contract.Bytecode)
	if err != nil {
		return common.Address{}, r, fmt.Errorf("deploy %s: %w", contract.Name, err)
	}
	return r.ContractAddress, r, nil
}

// HasCode reports whether addr holds a contract.
func (c *Chain) HasCode(ctx context.Context, addr common.Address) (bool, error) {
	code, err := c.Client.CodeAt(ctx, addr, nil)
	return len(code) > 0, err
}

// RevertError is a decoded revert: a custom error of one of the deployed
// contracts (Name and Args), Error(string), or raw data.
type RevertError struct {
	Name string
	Args []any
	Data []byte
}

func (e *RevertError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("reverted with undecoded data %s", hexutil.Encode(e.Data))
	}
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = fmt.Sprint(a)
	}
	return fmt.Sprintf("reverted: %s(%s)", e.Name, strings.Join(args, ", "))
}

// Is makes errors.Is(err, ErrReverted) true.
func (e *RevertError) Is(target error) bool { return target == ErrReverted }

// Reason is a revert's error name, "" if err is no revert.
func Reason(err error) string {
	var r *RevertError
	if errors.As(err, &r) {
		return r.Name
	}
	return ""
}

// abiSet holds the errors of every contract this process deployed or bound.
type abiSet struct {
	mu   sync.Mutex
	abis []abi.ABI
}

func newABISet() *abiSet { return &abiSet{} }

func (s *abiSet) add(raw []byte) error {
	a, err := abi.JSON(strings.NewReader(string(raw)))
	if err != nil {
		return fmt.Errorf("chain: contract ABI: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abis = append(s.abis, a)
	return nil
}

// decode turns a node's revert error into a *RevertError; other errors pass.
func (s *abiSet) decode(err error) error {
	var de interface{ ErrorData() any }
	if !errors.As(err, &de) {
		return err
	}
	str, ok := de.ErrorData().(string)
	if !ok {
		return err
	}
	data, derr := hexutil.Decode(str)
	if derr != nil {
		return err
	}
	return s.revert(data)
}

func (s *abiSet) revert(data []byte) error {
	re := &RevertError{Data: data}
	if msg, err := abi.UnpackRevert(data); err == nil {
		re.Name, re.Args = "Error", []any{msg}
		return re
	}
	if len(data) < 4 {
		return re
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.abis {
		e, err := a.ErrorByID([4]byte(data[:4]))
		if err != nil {
			continue
		}
		re.Name = e.Name
		if v, err := e.Inputs.Unpack(data[4:]); err == nil {
			re.Args = v
		}
		return re
	}
	return re
}
