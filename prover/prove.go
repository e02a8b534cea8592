package prover

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
)

// Job is one proof to produce.
type Job struct {
	// Name labels the job in errors and logs, e.g. "step-0007".
	Name string
	// Path is where the proof goes (a public folder), e.g.
	// DIR/public/proofs/step-0007.proof. The public witness goes to
	// [PublicPath](Path) and the sidecar to [MetaPath](Path).
	Path string
	// Witness builds the full witness. It is called lazily inside a worker
	// (it may read private files), also for jobs whose proof already exists,
	// since resuming checks the stored proof against this job's public inputs.
	Witness func() (witness.Witness, error)
}

// Options tunes [ProveAll].
type Options struct {
	// Workers is the number of jobs proven concurrently; <= 0: runtime.NumCPU().
	// gnark parallelizes each proof internally too, so fewer workers than
	// cores is often as fast and uses less memory.
	Workers int
	// Progress, if set, is called after each job ends (proven, skipped or
	// failed), never concurrently. eta is 0 until a proof has been timed.
	Progress func(done, total int, eta time.Duration)
	// Logger receives diagnostics; nil: slog.Default().
	Logger *slog.Logger
	// SolidityCompatible proves with gnark's Solidity target (Keccak-256
	// hash-to-field for commitments) so the proofs verify on-chain;
	// verification then needs the same mode, recorded in the sidecar.
	SolidityCompatible bool
	// Prove, if set, computes each proof instead of groth16.Prove in this
	// process (package fleet sends the witness to a worker and waits for its
	// proof). Everything else is unchanged: resuming, verifying the returned
	// proof before it is written, atomic writes, progress.
	Prove func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error)
}

// Summary reports what [ProveAll] did.
type Summary struct {
	Proven  int // new proofs written
	Skipped int // existing proofs that verified and were kept
	Failed  int // jobs that ended with an error
	// Durations holds, per proven job name, the wall time from building the
	// witness to the proof being on disk.
	Durations map[string]time.Duration
}

// ProveAll proves jobs with a pool of opts.Workers goroutines.
//
// It resumes: a job whose proof, public witness and sidecar exist, and whose
// proof verifies against vk and the job's own public witness in the requested
// mode, is skipped; a stale or broken proof is logged and proven again. Each
// new proof is verified, then written atomically (public witness, sidecar,
// and the proof last) as soon as it is done, so an interruption loses no
// finished proof.
//
// A failing job does not stop the others; the returned error joins every
// job's error, each prefixed by the job's name and wrapping a sentinel
// (ErrWitness, ErrProve, ErrInvalidProof, ErrIO). When ctx is cancelled no new
// job starts; proofs already being computed (gnark's prover cannot be
// interrupted) are finished and written, jobs still building their witness
// stop before proving, and the error wraps ctx.Err().
func ProveAll(ctx context.Context, ccs constraint.ConstraintSystem, pk groth16.ProvingKey, vk groth16.VerifyingKey, jobs []Job, opts Options) (Summary, error) {
	sum := Summary{Durations: map[string]time.Duration{}}
	if err := checkBN254(ccs); err != nil {
		return sum, err
	}
	if pk == nil || vk == nil || pk.CurveID() != ecc.BN254 || vk.CurveID() != ecc.BN254 {
		return sum, fmt.Errorf("%w: keys must be BN254 groth16 keys", ErrUnsupported)
	}
	if err := checkJobs(jobs); err != nil {
		return sum, err
	}
	var vkBuf bytes.Buffer
	if _, err := vk.WriteTo(&vkBuf); err != nil {
		return sum, fmt.Errorf("serialize verifying key: %w", err)
	}
	vkHash := sha256.Sum256(vkBuf.Bytes())

	p := &run{
		ctx: ctx, ccs: ccs, pk: pk, vk: vk, opts: opts,
		log:    logger(opts.Logger),
		vkHash: hex.EncodeToString(vkHash[:]),
		total:  len(jobs), sum: &sum,
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	p.workers = workers

	next := make(chan Job)
	go func() {
		defer close(next)
		for _, j := range jobs {
			select {
			case <-ctx.Done():
				return
			case next <- j:
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				// select picks at random when both cases are ready: recheck.
				if ctx.Err() != nil {
					continue
				}
				p.record(j, p.do(j))
			}
		}()
	}
	wg.Wait()

	errs := p.errs
	if err := ctx.Err(); err != nil && p.done < p.total {
		errs = append([]error{fmt.Errorf("interrupted after %d of %d jobs: %w", p.done, p.total, err)}, errs...)
	}
	return sum, errors.Join(errs...)
}

func checkJobs(jobs []Job) error {
	names := map[string]bool{}
	paths := map[string]bool{}
	for i, j := range jobs {
		switch {
		case j.Name == "":
			return fmt.Errorf("job %d: empty name", i)
		case j.Path == "":
			return fmt.Errorf("%s: empty proof path", j.Name)
		case j.Witness == nil:
			return fmt.Errorf("%s: %w: no witness builder", j.Name, ErrWitness)
		case names[j.Name]:
			return fmt.Errorf("%s: duplicate job name", j.Name)
		case paths[PublicPath(j.Path)]:
			// two jobs would overwrite each other's files
			return fmt.Errorf("%s: proof path %s used by another job", j.Name, j.Path)
		}
		names[j.Name] = true
		paths[PublicPath(j.Path)] = true
	}
	return nil
}

// run is the shared state of one ProveAll call.
type run struct {
	ctx     context.Context
	ccs     constraint.ConstraintSystem
	pk      groth16.ProvingKey
	vk      groth16.VerifyingKey
	opts    Options
	log     *slog.Logger
	vkHash  string
	workers int

	mu        sync.Mutex // guards everything below and serializes Progress
	total     int
	done      int
	proveTime time.Duration
	sum       *Summary
	errs      []error
}

type outcome struct {
	skipped   bool
	cancelled bool // not started because ctx was cancelled: neither done nor failed
	elapsed   time.Duration
	err       error
}

func (p *run) record(j Job, o outcome) {
	if o.cancelled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch {
	case o.err != nil:
		p.sum.Failed++
		p.errs = append(p.errs, fmt.Errorf("%s: %w", j.Name, o.err))
		p.log.Error("job failed", "job", j.Name, "err", o.err)
	case o.skipped:
		p.sum.Skipped++
	default:
		p.sum.Proven++
		p.sum.Durations[j.Name] = o.elapsed
		p.proveTime += o.elapsed
	}
	if p.opts.Progress != nil {
		p.opts.Progress(p.done, p.total, p.eta())
	}
}

// eta assumes the remaining jobs all need proving at the mean time seen so
// far, spread over the workers.
func (p *run) eta() time.Duration {
	left := p.total - p.done
	if p.sum.Proven == 0 || left == 0 {
		return 0
	}
	mean := p.proveTime / time.Duration(p.sum.Proven)
	w := min(p.workers, left)
	return mean * time.Duration((left+w-1)/w)
}

// do runs one job; a panic in the caller's witness builder becomes an error
// rather than crashing the whole pool.
func (p *run) do(j Job) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = outcome{err: fmt.Errorf("%w: panic: %v", ErrWitness, r)}
		}
	}()
	start := time.Now()
	full, err := j.Witness()
	if err != nil {
		return outcome{err: fmt.Errorf("%w: %w", ErrWitness, err)}
	}
	if full == nil {
		return outcome{err: fmt.Errorf("%w: builder returned nil", ErrWitness)}
	}
	pub, err := full.Public()
	if err != nil {
		return outcome{err: fmt.Errorf("%w: public part: %w", ErrWitness, err)}
	}
	pubBytes, err := pub.MarshalBinary()
	if err != nil {
		return outcome{err: fmt.Errorf("%w: encode public witness: %w", ErrWitness, err)}
	}

	if _, err := os.Stat(j.Path); err == nil {
		reason := p.existing(j, pub, pubBytes)
		if reason == nil {
			p.log.Debug("proof exists and verifies, skipping", "job", j.Name, "path", j.Path)
			return outcome{skipped: true}
		}
		p.log.Warn("existing proof rejected, proving again", "job", j.Name, "path", j.Path, "reason", reason)
	}

	// Last point where cancelling is cheap: gnark's prover cannot be stopped.
	if p.ctx.Err() != nil {
		return outcome{cancelled: true}
	}
	var proof groth16.Proof
	if p.opts.Prove != nil {
		proof, err = p.opts.Prove(p.ctx, j.Name, full)
	} else {
		proof, err = Prove(p.ccs, p.pk, full, p.opts.SolidityCompatible)
	}
	if err != nil {
		return outcome{err: fmt.Errorf("%w: %w", ErrProve, err)}
	}
	// A fresh proof that fails means mismatched keys: never write it.
	if err := verify(p.vk, proof, pub, p.opts.SolidityCompatible); err != nil {
		return outcome{err: fmt.Errorf("new proof: %w", err)}
	}
	if err := p.write(j, proof, pubBytes); err != nil {
		return outcome{err: err}
	}
	elapsed := time.Since(start)
	p.log.Info("proof written", "job", j.Name, "path", j.Path, "elapsed", elapsed)
	return outcome{elapsed: elapsed}
}

// Prove proves full with gnark's Solidity target (Keccak-256 hash-to-field)
// when solidity is set, gnark's default otherwise.
func Prove(ccs constraint.ConstraintSystem, pk groth16.ProvingKey, full witness.Witness, solidity bool) (groth16.Proof, error) {
	return groth16.Prove(ccs, pk, full, proverOptions(solidity)...)
}

// Verify checks proof against vk and the public witness pub in the mode it
// was proven in (see [Prove]).
func Verify(vk groth16.VerifyingKey, proof groth16.Proof, pub witness.Witness, solidity bool) error {
	return verify(vk, proof, pub, solidity)
}

// existing returns nil if the stored proof of j can be kept, else why not.
func (p *run) existing(j Job, pub witness.Witness, pubBytes []byte) error {
	meta, err := ReadProofMeta(j.Path)
	if err != nil {
		return err
	}
	if meta.Solidity != p.opts.SolidityCompatible {
		return fmt.Errorf("proof made with solidity_compatible=%v, want %v", meta.Solidity, p.opts.SolidityCompatible)
	}
	// The stored public witness must be this job's, or verifiers reading the
	// public files would check the wrong statement.
	stored, err := os.ReadFile(PublicPath(j.Path))
	if err != nil {
		return err
	}
	if !bytes.Equal(stored, pubBytes) {
		return errors.New("stored public witness differs from this job's")
	}
	proof, err := readProof(j.Path)
	if err != nil {
		return err
	}
	return verify(p.vk, proof, pub, p.opts.SolidityCompatible)
}

// write stores public witness, sidecar, then proof: the proof file appears
// last, so its presence means the set is complete.
func (p *run) write(j Job, proof groth16.Proof, pubBytes []byte) error {
	if _, err := writeBytesAtomic(PublicPath(j.Path), pubBytes); err != nil {
		return err
	}
	meta, err := json.MarshalIndent(ProofMeta{
		Job:      j.Name,
		Solidity: p.opts.SolidityCompatible,
		VKSHA256: p.vkHash,
		Created:  time.Now().UTC().Format(time.RFC3339),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sidecar: %w", err)
	}
	if _, err := writeBytesAtomic(MetaPath(j.Path), append(meta, '\n')); err != nil {
		return err
	}
	_, err = WriteFileAtomic(j.Path, func(w io.Writer) error { _, err := proof.WriteTo(w); return err })
	return err
}
