package order

// MaxErrors is the most violations a decision lists (contract section 6, amended
// 2026-12-06): the first ones of the deciding row, in the contract's order. A row that finds
// more sets Decision.ErrorsTruncated. It bounds the work and memory a record can cost
// whatever it holds: the paths and texts of the violations past it are never built.
const MaxErrors = 1000

// violations collects the findings of one row: the first ones (up to its limit) are kept,
// every one is counted.
type violations struct {
	row Row
	vs  []Violation
	// n counts every violation found, kept or not.
	n int
	// limit is how many are kept: 0 means MaxErrors, a negative value none.
	limit int
}

// keep counts one more violation and reports whether it is to be kept; only then is its
// path written out.
func (v *violations) keep() bool {
	v.n++
	limit := v.limit
	if limit == 0 {
		limit = MaxErrors
	}
	return len(v.vs) < limit
}

// found reports whether the row found any violation.
func (v *violations) found() bool { return v.n > 0 }

// truncated reports whether violations were found past the ones kept.
func (v *violations) truncated() bool { return v.n > len(v.vs) }

func (v *violations) missing(path string) {
	if v.keep() {
		v.vs = append(v.vs, Violation{Row: RowMissingField, Field: path})
	}
}

func (v *violations) missingAt(p apath) {
	if v.keep() {
		v.vs = append(v.vs, Violation{Row: RowMissingField, Field: p.String()})
	}
}

// invalid records a field that is not valid. Row 14 writes the path into its MSG, since its
// description does not name the field.
func (v *violations) invalid(path, reason string) {
	if v.keep() {
		v.add(path, reason)
	}
}

func (v *violations) invalidAt(p apath, reason string) {
	if v.keep() {
		v.add(p.String(), reason)
	}
}

// invalidName is invalid for the path prefix+name, joined only when kept.
func (v *violations) invalidName(prefix, name, reason string) {
	if v.keep() {
		v.add(prefix+name, reason)
	}
}

func (v *violations) add(path, reason string) {
	msg := reason
	if v.row == RowInvalidProperties {
		msg = path + ": " + reason
	}
	v.vs = append(v.vs, Violation{Row: v.row, Field: path, Arg: msg})
}

// merge adds the violations of o after v's, in order, counting those o did not keep.
func (v *violations) merge(o *violations) {
	for _, x := range o.vs {
		if v.keep() {
			v.vs = append(v.vs, x)
		}
	}
	v.n += o.n - len(o.vs)
}
