package ringbuffer

import (
	"fmt"
	"reflect"
)

// MaxCapacity is the largest capacity New accepts.
const MaxCapacity = 1<<24 - 1

func checkCapacity(capacity int) error {
	if capacity < 1 || capacity > MaxCapacity || capacity&(capacity+1) != 0 {
		return fmt.Errorf("ringbuffer: capacity %d is not one less than a power of two between 1 and %d", capacity, MaxCapacity)
	}
	return nil
}

// checkElem rejects element types the ring cannot copy word by word: readers
// may copy a slot while it is being overwritten, which is harmless only for
// plain data, and the copy works in whole 64-bit words.
func checkElem[T any]() error {
	typ := reflect.TypeFor[T]()
	if where := pointerIn(typ, typ.String()); where != "" {
		return fmt.Errorf("ringbuffer: element type %s holds a pointer at %s", typ, where)
	}
	if size := typ.Size(); size == 0 || size%8 != 0 {
		return fmt.Errorf("ringbuffer: element type %s is %d bytes, not a positive multiple of 8", typ, size)
	}
	return nil
}

// pointerIn returns the path to the first pointer-holding part of typ, or ""
// if it has none.
func pointerIn(typ reflect.Type, path string) string {
	switch typ.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return ""
	case reflect.Array:
		return pointerIn(typ.Elem(), path+"[]")
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			if where := pointerIn(f.Type, path+"."+f.Name); where != "" {
				return where
			}
		}
		return ""
	default:
		return path + " (" + typ.Kind().String() + ")"
	}
}
