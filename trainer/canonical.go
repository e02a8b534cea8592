package trainer

import "encoding/json"

// jsonCanonical is encoding/json's output, which is deterministic for
// structs (fields in declaration order, shortest float formatting).
func jsonCanonical(v any) ([]byte, error) { return json.Marshal(v) }
