package fleet

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// job is one step to prove, as sealed into a message.
type job struct {
	Name string
	// Circuit says how a worker rebuilds the circuit: "step" compiles the
	// step circuit of Spec, the run's public params.json.
	Circuit     string
	Spec        []byte
	CircuitHash string
	VKSHA256    string // the worker's verifying key must be this one
	// PKSHA256, when set, is the proving key's sha256 (raw encoding): a
	// worker without the keys may fetch both from KeysBucket by checksum.
	PKSHA256 string
	Solidity bool
	Witness  []byte // gnark's binary full witness: private data
	Attempt  int
}

// result is a worker's answer, sealed under the result subject.
type result struct {
	Job     string
	Attempt int
	Worker  string
	Proof   []byte // empty when refused
	Refusal string
	// seq is, in a refusal the collector makes up for a job message that
	// can no longer be answered, that message's stream sequence.
	seq uint64
	// resultSeq is a received result's sequence in the results stream.
	resultSeq uint64
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("fleet: encoding: %w", err)
	}
	return b.Bytes(), nil
}

func decode(b []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("fleet: decoding: %w", err)
	}
	return nil
}

// sealMsg encodes v, seals it for subject and builds its message; a payload
// above maxInline goes to the object store under a fresh name, carried in a
// header, and the returned cleanup deletes it.
func sealMsg(ctx context.Context, k RunKey, subject string, v any, obj jetstream.ObjectStore, maxInline int) (*nats.Msg, error) {
	plain, err := encode(v)
	if err != nil {
		return nil, err
	}
	box, err := seal(k, subject, plain)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	if len(box) <= maxInline {
		msg.Data = box
		return msg, nil
	}
	name := subject + "." + nuid.Next()
	if _, err := obj.PutBytes(ctx, name, box); err != nil {
		return nil, fmt.Errorf("fleet: storing a %d-byte payload in %s: %w", len(box), PayloadBucket, err)
	}
	msg.Header.Set(objectHeader, name)
	return msg, nil
}

// openMsg reads a message's payload (inline or from the object store) and
// opens it under its subject into v.
func openMsg(ctx context.Context, k RunKey, subject string, data []byte, header nats.Header, obj jetstream.ObjectStore, v any) error {
	box := data
	if name := header.Get(objectHeader); name != "" {
		var err error
		if box, err = obj.GetBytes(ctx, name); err != nil {
			return fmt.Errorf("fleet: payload %s from %s: %w", name, PayloadBucket, err)
		}
	}
	plain, err := open(k, subject, box)
	if err != nil {
		return err
	}
	return decode(plain, v)
}
