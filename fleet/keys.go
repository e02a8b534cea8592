package fleet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/prover"
)

// KeysBucket is the object store of proving and verifying keys, each named
// by the SHA-256 of its content, for workers whose key cache lacks a run's
// keys. Keys are public (only the data holder's witness is secret), so they
// are stored as they are; a worker checks each against the checksum its
// sealed job names before using it.
const KeysBucket = "ZKDP_KEYS"

// fetchedSetup is the setup field of a key cache entry fetched from KeysBucket.
const fetchedSetup = "fetched from the prover fleet's key store; its content sha256 is the one the run's sealed job named"

func keyStore(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	s, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: KeysBucket, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("fleet: object store %s: %w", KeysBucket, err)
	}
	return s, nil
}

func keyObject(sha string) string { return "sha256-" + sha }

// shareKeys puts pk (raw, as key caches store it) and vk (vkBytes, whose
// sha256 is vkSum) into KeysBucket unless they are there already, and
// returns pk's sha256.
func (c *Collector) shareKeys(ctx context.Context, pk groth16.ProvingKey, vkBytes []byte, vkSum string) (string, error) {
	store, err := keyStore(ctx, c.js)
	if err != nil {
		return "", err
	}
	// The proving key can be gigabytes: through a temporary file, not memory.
	f, err := os.CreateTemp("", "zkdp-pk-")
	if err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := pk.WriteRawTo(bw); err != nil {
		return "", fmt.Errorf("fleet: encoding the proving key: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	pkSum := hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	for _, o := range []struct {
		sum string
		r   io.Reader
	}{{pkSum, bufio.NewReaderSize(f, 1<<20)}, {vkSum, bytes.NewReader(vkBytes)}} {
		_, err := store.GetInfo(ctx, keyObject(o.sum))
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrObjectNotFound) {
			return "", fmt.Errorf("fleet: %s: %w", KeysBucket, err)
		}
		if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: keyObject(o.sum)}, o.r); err != nil {
			return "", fmt.Errorf("fleet: storing a key in %s: %w", KeysBucket, err)
		}
	}
	c.log.Info("keys shared with the workers", "bucket", KeysBucket, "pk_sha256", pkSum, "vk_sha256", vkSum)
	return pkSum, nil
}

// fetchKeys copies j's keys from KeysBucket into the worker's key cache,
// checking each against the checksum the job names.
func (w *Worker) fetchKeys(ctx context.Context, j job, ccs constraint.ConstraintSystem, hash string) error {
	store, err := keyStore(ctx, w.js)
	if err != nil {
		return err
	}
	var readers []io.Reader
	for _, sum := range []string{j.PKSHA256, j.VKSHA256} {
		r, err := store.Get(ctx, keyObject(sum))
		if err != nil {
			return fmt.Errorf("fleet: key sha256 %s from %s: %w", sum, KeysBucket, err)
		}
		defer r.Close()
		readers = append(readers, r)
	}
	meta := prover.KeyMeta{Circuit: j.Circuit, Hash: hash, Constraints: ccs.GetNbConstraints(), Setup: fetchedSetup,
		PKSHA256: j.PKSHA256, VKSHA256: j.VKSHA256}
	if err := w.Fetch.Import(meta, readers[0], readers[1]); err != nil {
		return fmt.Errorf("fleet: keys from %s: %w", KeysBucket, err)
	}
	return nil
}
