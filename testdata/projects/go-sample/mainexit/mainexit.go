// Package mainexit has a TestMain that exits non-zero after its tests pass.
package mainexit
