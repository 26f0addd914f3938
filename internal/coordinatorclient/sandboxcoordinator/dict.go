package sandboxcoordinator

// dict is a map that keeps its keys in insertion order, as the Python
// dicts the real servers list from do.
type dict[K comparable, V any] struct {
	m    map[K]V
	keys []K
}

func newDict[K comparable, V any]() dict[K, V] { return dict[K, V]{m: map[K]V{}} }

// put sets k; a new key goes last.
func (d *dict[K, V]) put(k K, v V) {
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

// del removes k and reports whether it was there.
func (d *dict[K, V]) del(k K) bool {
	if _, ok := d.m[k]; !ok {
		return false
	}
	delete(d.m, k)
	for i, x := range d.keys {
		if x == k {
			d.keys = append(d.keys[:i:i], d.keys[i+1:]...)
			break
		}
	}
	return true
}
