//go:build tools

// Package tools pins the simd program in go.mod/go.sum; it is built with
// `go build github.com/cosmos/ibc-go/v8/testing/simapp/simd`, never compiled here.
package tools

import _ "github.com/cosmos/ibc-go/v8/testing/simapp/simd"
