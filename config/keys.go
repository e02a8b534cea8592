package config

import (
	"reflect"
)

// Key is one configuration key, found by walking Config's mapstructure tags.
type Key struct {
	// Name is the dotted key, e.g. training.steps; the fields of a list's
	// elements are named like data.features[].min.
	Name string
	// Field is the Go field behind the key; Owner, the struct declaring it
	// (whose source comments document the key).
	Field reflect.StructField
	Owner reflect.Type
	// Default is the key's value in Defaults(); nil for a pointer and for
	// the fields of list elements, which have no default.
	Default any
	// InList is true for the fields of a list's elements.
	InList bool
}

// Keys lists every key of Config in declaration order, a struct before its
// fields. setDefaults and the generated config reference both walk it, so
// they cannot disagree on the names.
func Keys() []Key {
	var out []Key
	walkKeys("", reflect.ValueOf(Defaults()), false, &out)
	return out
}

func walkKeys(prefix string, val reflect.Value, inList bool, out *[]Key) {
	t := val.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("mapstructure")
		if name == "" || name == "-" {
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		k := Key{Name: name, Field: f, Owner: t, InList: inList}
		fv := val.Field(i)
		if !inList && f.Type.Kind() != reflect.Pointer {
			k.Default = fv.Interface()
		}
		*out = append(*out, k)
		switch {
		case f.Type.Kind() == reflect.Struct:
			walkKeys(name, fv, inList, out)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			walkKeys(name+"[]", reflect.New(f.Type.Elem()).Elem(), true, out)
		}
	}
}

// Settings is c as nested maps keyed like the config file, for printing the
// effective configuration with its decoded types.
func Settings(c Config) map[string]any {
	return settings(reflect.ValueOf(c)).(map[string]any)
}

func settings(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return settings(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			if name := v.Type().Field(i).Tag.Get("mapstructure"); name != "" && name != "-" {
				m[name] = settings(v.Field(i))
			}
		}
		return m
	case reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = settings(v.Index(i))
		}
		return l
	default:
		return v.Interface()
	}
}
