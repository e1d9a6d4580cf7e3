// Package broken does not compile, on purpose.
package broken

// Answer returns a string where an int is declared.
func Answer() int {
	return "forty-two"
}

// Missing uses an undefined name.
func Missing() int {
	return undefinedName
}
